import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { configTableOf } from '../../scripts/config-docs.js';
import {
  CONFIG_VARIABLES,
  configReference,
  configReferenceTable,
  DEV_API_PASSWORD,
  parseConfig,
} from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { packageRoot } from '../../src/service-version.js';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('CONFIG_INVALID');
    return (e as AppError).details.problems as string[];
  }
  throw new Error('expected parseConfig to throw');
}

describe('parseConfig', () => {
  it('gives working defaults for a local run when nothing is set', () => {
    const config = parseConfig({});
    expect(config.crm.timeoutMs).toBe(10_000);
    expect(config.crm.pageSize).toBe(500);
    expect(config.migration).toEqual({
      noteTypeAllowlist: [1, 6],
      maxFailureRate: 0.01,
      maxWarningRate: 0.5,
      matchPctThreshold: 0.99,
      contactCache: { max: 50_000, ttlMs: 600_000 },
    });
    expect(config.attachments.maxBytes).toBe(25 * 1024 * 1024);
    expect(config.attachments.concurrency).toBe(8);
    expect(config.mongo.uri).toBeUndefined();
  });

  it('returns a frozen config', () => {
    const config = parseConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.crm)).toBe(true);
  });

  it.each([
    [
      'a non-integer',
      { CRM_PAGE_SIZE: 'abc' },
      'CRM_PAGE_SIZE: expected an integer from 1 to 1000, got "abc"',
    ],
    [
      'an integer out of range',
      { CRM_PAGE_SIZE: '5000' },
      'CRM_PAGE_SIZE: expected an integer from 1 to 1000, got "5000"',
    ],
    [
      'a negative cache size',
      { CONTACT_CACHE_MAX: '-1' },
      'CONTACT_CACHE_MAX: expected an integer from 0 to 1000000, got "-1"',
    ],
    [
      'a duration without a unit',
      { CRM_NOTES_EXTRACT_TIMEOUT: '10' },
      'CRM_NOTES_EXTRACT_TIMEOUT: expected a duration with a unit (ms, s or m) from 100ms to 300000ms, e.g. "10s", got "10"',
    ],
    [
      'a ratio given as a percentage',
      { MAX_FAILURE_RATE: '1' + '5' },
      'MAX_FAILURE_RATE: expected a number from 0 to 1 (a fraction, not a percentage), got "15"',
    ],
    [
      'an unknown enum value',
      { NODE_ENV: 'staging' },
      'NODE_ENV: expected one of development, test, production, got "staging"',
    ],
    [
      'a malformed boolean',
      { ATTACHMENT_ALLOW_HTTP: 'maybe' },
      'ATTACHMENT_ALLOW_HTTP: expected true or false, got "maybe"',
    ],
    [
      'a URL with the wrong scheme',
      { CRM_API_ROOT_URL: 'ftp://crm' },
      'CRM_API_ROOT_URL: expected a URL with scheme http or https, got "ftp://crm"',
    ],
    [
      'something that is not a URL',
      { CRM_API_ROOT_URL: 'crm.example' },
      'CRM_API_ROOT_URL: expected an absolute URL (http, https), got "crm.example"',
    ],
    [
      'a malformed id list',
      { NOTE_TYPE_ALLOWLIST: '1;6' },
      'NOTE_TYPE_ALLOWLIST: expected a comma-separated list of non-negative integers, e.g. "1,6", got "1;6"',
    ],
    [
      'a malformed host list',
      { ATTACHMENT_HOSTS: 'ok.example, bad host' },
      'ATTACHMENT_HOSTS: expected host names or *.suffix wildcards separated by commas (bad: bad host), got "ok.example, bad host"',
    ],
  ])('names the variable, the expectation and the value for %s', (_kind, env, line) => {
    expect(problemsOf(env)).toEqual([line]);
  });

  it('never echoes a secret value, only its length', () => {
    const problems = problemsOf({ MONGODB_URI: 'postgres://user:hunter2@db' });
    expect(problems).toEqual([
      'MONGODB_URI: expected a URL with scheme mongodb or mongodb+srv, got [redacted, 26 characters]',
    ]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('lists every bad variable at once, one line each', () => {
    const problems = problemsOf({ CRM_PAGE_SIZE: '0', WORKER_CONCURRENCY: 'many', LOG_LEVEL: 'loud' });
    expect(problems).toHaveLength(3);
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'CRM_PAGE_SIZE',
      'LOG_LEVEL',
      'WORKER_CONCURRENCY',
    ]);
  });

  it('puts the whole list in the error message', () => {
    expect(() => parseConfig({ CRM_PAGE_SIZE: '0', HTTP_PORT: '-1' })).toThrow(
      /Invalid configuration:\n {2}HTTP_PORT: .*\n {2}CRM_PAGE_SIZE: |Invalid configuration:\n {2}CRM_PAGE_SIZE: .*\n {2}HTTP_PORT: /,
    );
  });

  it('refuses a lease shorter than two heartbeats', () => {
    expect(problemsOf({ LEASE_MS: '20000', LEASE_HEARTBEAT_MS: '15000' })).toEqual([
      'LEASE_MS: expected more than twice LEASE_HEARTBEAT_MS (15000) so one missed heartbeat never loses the lease, got 20000',
    ]);
  });

  it('refuses default credentials, the private-network switch and a missing MONGODB_URI in production', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      API_PASSWORD: DEV_API_PASSWORD,
      ATTACHMENT_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'API_PASSWORD',
      'ATTACHMENT_ALLOW_PRIVATE_NETWORKS',
      'MONGODB_URI',
    ]);
  });

  it('accepts a production configuration with real credentials', () => {
    const config = parseConfig({
      NODE_ENV: 'production',
      API_PASSWORD: 's3cret-enough',
      MONGODB_URI: 'mongodb://db:27017/cdp?replicaSet=rs0',
    });
    expect(config.nodeEnv).toBe('production');
    expect(config.mongo.uri).toBe('mongodb://db:27017/cdp?replicaSet=rs0');
  });

  it('parses durations, lists and host wildcards', () => {
    const config = parseConfig({
      CRM_NOTES_EXTRACT_TIMEOUT: '1500ms',
      NOTE_TYPE_ALLOWLIST: '1, 6, 6, 9',
      ATTACHMENT_HOSTS: 'CRM-Files.example.COM., *.cdn.example.com',
      ATTACHMENT_PROXY_BASE_URL: 'https://cdp.example/files/',
    });
    expect(config.crm.timeoutMs).toBe(1500);
    expect(config.migration.noteTypeAllowlist).toEqual([1, 6, 9]);
    expect(config.attachments.allowedHosts).toEqual(['crm-files.example.com', '*.cdn.example.com']);
    expect(config.attachments.proxyBaseUrl).toBe('https://cdp.example/files');
  });

  it('reads fractional durations and refuses malformed ones and host patterns (regexes without nested quantifiers, #18)', () => {
    expect(parseConfig({ CRM_NOTES_EXTRACT_TIMEOUT: '1.5s' }).crm.timeoutMs).toBe(1500);
    expect(parseConfig({ CRM_NOTES_EXTRACT_TIMEOUT: '2m' }).crm.timeoutMs).toBe(120_000);
    for (const bad of ['1.s', '.5s', '1..5s', '1.5.5s', '10', 's', `${'1'.repeat(5000)}x`]) {
      expect(problemsOf({ CRM_NOTES_EXTRACT_TIMEOUT: bad }), bad).toHaveLength(1);
    }
    for (const bad of ['*.', 'x..y', '*.*.example.com', 'exa mple.com', 'a_b.example']) {
      expect(problemsOf({ ATTACHMENT_HOSTS: bad }), bad).toHaveLength(1);
    }
  });

  it('normalises ALLOWED_ORIGINS and refuses entries that are not bare http(s) origins', () => {
    expect(parseConfig({}).http.allowedOrigins).toEqual([]);
    const config = parseConfig({ ALLOWED_ORIGINS: 'https://Ops.Example.com:443/, http://127.0.0.1:8080' });
    expect(config.http.allowedOrigins).toEqual(['https://ops.example.com', 'http://127.0.0.1:8080']);
    for (const bad of [
      'ops.example.com',
      'https://ops.example.com/dash',
      'ftp://x.example',
      'https:ops.example.com',
      '*',
    ]) {
      const problems = problemsOf({ ALLOWED_ORIGINS: bad });
      expect(problems, bad).toHaveLength(1);
      expect(problems[0]).toMatch(/^ALLOWED_ORIGINS: expected origins like https:\/\/ops\.example\.com/);
    }
  });
});

describe('configuration reference (#12: each variable written once)', () => {
  it('documents every variable the schema reads, with its default and range, in docs/operations.md', () => {
    const operations = readFileSync(path.join(packageRoot(), 'docs', 'operations.md'), 'utf8');
    // Regenerate with `npm run docs:config` when this fails.
    expect(configTableOf(operations)).toBe(configReferenceTable());
    const documented = configReference().map((v) => v.name);
    expect(documented).toEqual(CONFIG_VARIABLES);
    expect(configReference().find((v) => v.name === 'CRM_PAGE_SIZE')).toEqual({
      name: 'CRM_PAGE_SIZE',
      default: '`500`',
      doc: 'notes per CRM page; fixed per run (stored on the run) (1–1000)',
    });
  });

  it('states the default it applies: the documented default is what parseConfig({}) gives', () => {
    const config = parseConfig({});
    const shown = new Map(configReference().map((v) => [v.name, v.default]));
    expect(shown.get('CRM_NOTES_EXTRACT_TIMEOUT')).toBe('`10s`');
    expect(config.crm.timeoutMs).toBe(10_000);
    expect(shown.get('HTTP_HOST')).toBe(`\`${config.http.host}\``);
    expect(shown.get('S3_BUCKET')).toBe(`\`${config.s3.bucket}\``);
    expect(shown.get('NOTE_TYPE_ALLOWLIST')).toBe(`\`${config.migration.noteTypeAllowlist.join(',')}\``);
    expect(shown.get('LEASE_MS')).toBe(`\`${config.worker.leaseMs}\``);
  });
});
