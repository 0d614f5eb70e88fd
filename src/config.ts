/**
 * Environment → frozen, typed `Config`, through one zod schema. A bad or missing value stops
 * start-up with one line per problem: the variable, what was expected, what was given (secrets
 * are never echoed, only their length). Only `cli.ts` passes `process.env` in.
 */
import { z } from 'zod';

import { AppError } from './errors.js';

const NODE_ENVS = ['development', 'test', 'production'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const CHANGE_STREAM_MODES = ['auto', 'on', 'off'] as const;

/** Variables whose values are never printed. */
const SECRET_VARS = new Set([
  'API_PASSWORD',
  'CRM_API_AUTH',
  'S3_SECRET_ACCESS_KEY',
  'READ_API_TOKEN',
  'MONGODB_URI',
]);

/** Default Basic-auth credentials for local runs; refused when NODE_ENV=production. */
export const DEV_API_USERNAME = 'ops';
export const DEV_API_PASSWORD = 'ops-dev-password';

/** Where migrated attachments are served from when ATTACHMENT_PROXY_BASE_URL is unset. */
export const DEFAULT_PROXY_BASE_URL = 'https://cdp.local/attachments';

const unset = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

/** What the configuration reference (docs/operations.md) shows of a variable, declared with it. */
export interface VariableDoc {
  /** The default as an operator writes it (`10s`, `1,6`), or `–` when there is none. */
  default: string;
  /** What it does; markdown. */
  doc: string;
}

const documented = <T extends z.ZodType>(schema: T, meta: VariableDoc): T => schema.meta({ ...meta });

function intVar(defaultValue: number, min: number, max: number, doc: string, shownDefault?: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return defaultValue;
      const v = raw.trim().replaceAll('_', '');
      const n = /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });
  return documented(schema, {
    default: shownDefault ?? `\`${defaultValue}\``,
    doc: `${doc} (${min}–${max})`,
  });
}

function ratioVar(defaultValue: number, doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return defaultValue;
      const n = Number(raw.trim());
      if (!Number.isFinite(n) || n < 0 || n > 1) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected a number from 0 to 1 (a fraction, not a percentage)',
        });
        return z.NEVER;
      }
      return n;
    });
  return documented(schema, { default: `\`${defaultValue}\``, doc: `${doc} (a fraction, 0–1)` });
}

/** A positive number (decimals allowed) with no default: undefined when unset (a feature left off). */
function optionalRateVar(min: number, max: number, doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): number | undefined => {
      if (unset(raw)) return undefined;
      const v = raw.trim();
      // Digits with an optional fraction; an alternation so there is no nested quantifier.
      const n = /^(\d+|\d+\.\d+)$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });
  return documented(schema, { default: '– (off)', doc: `${doc} (${min}–${max})` });
}

const DURATION_UNITS_MS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
]);

/** A duration with its unit in the value (`10s`, `1500ms`, `2m`), returned in milliseconds. */
function durationVar(defaultMs: number, minMs: number, maxMs: number, doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return defaultMs;
      // An alternation, not `\d+(\.\d+)?`: no nested quantifier, so no backtracking blow-up.
      const m = /^(\d+|\d+\.\d+)\s*(ms|s|m)$/.exec(raw.trim());
      const ms = m ? Number(m[1]) * (DURATION_UNITS_MS.get(m[2] ?? '') ?? Number.NaN) : Number.NaN;
      if (!Number.isFinite(ms) || ms < minMs || ms > maxMs) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration with a unit (ms, s or m) from ${minMs}ms to ${maxMs}ms, e.g. "10s"`,
        });
        return z.NEVER;
      }
      return Math.round(ms);
    });
  const shown = defaultMs % 1000 === 0 ? `${defaultMs / 1000}s` : `${defaultMs}ms`;
  return documented(schema, {
    default: `\`${shown}\``,
    doc: `${doc} (with its unit: \`1500ms\`, \`10s\`, \`1m\`)`,
  });
}

function boolVar(defaultValue: boolean, doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return defaultValue;
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: 'expected true or false' });
      return z.NEVER;
    });
  return documented(schema, { default: `\`${defaultValue}\``, doc });
}

function enumVar<const T extends readonly [string, ...string[]]>(
  values: T,
  defaultValue: T[number],
  doc: string,
) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T[number] => {
      if (unset(raw)) return defaultValue;
      const v = raw.trim();
      if ((values as readonly string[]).includes(v)) return v;
      ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}` });
      return z.NEVER;
    });
  return documented(schema, {
    default: `\`${defaultValue}\``,
    doc: `${doc} (${values.map((v) => `\`${v}\``).join(', ')})`,
  });
}

function urlVar(protocols: string[], doc: string, shownDefault = '–') {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return undefined;
      let url: URL;
      try {
        url = new URL(raw.trim());
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected an absolute URL (${protocols.join(', ')})` });
        return z.NEVER;
      }
      if (!protocols.includes(url.protocol.replace(/:$/, ''))) {
        ctx.addIssue({ code: 'custom', message: `expected a URL with scheme ${protocols.join(' or ')}` });
        return z.NEVER;
      }
      return raw.trim();
    });
  return documented(schema, { default: shownDefault, doc });
}

/** A string with a default: always a string afterwards. */
function stringVar(defaultValue: string, doc: string, shownDefault?: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw): string => (unset(raw) ? defaultValue : raw.trim()));
  return documented(schema, { default: shownDefault ?? `\`${defaultValue}\``, doc });
}

/** A string with no default (a secret, an optional id): undefined when unset. */
function optionalStringVar(doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw): string | undefined => (unset(raw) ? undefined : raw.trim()));
  return documented(schema, { default: '–', doc });
}

/** `1,6` → [1, 6]. */
function intListVar(defaultValue: number[], doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return defaultValue;
      const parts = raw.split(',').map((p) => p.trim());
      if (parts.some((p) => !/^\d+$/.test(p))) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected a comma-separated list of non-negative integers, e.g. "1,6"',
        });
        return z.NEVER;
      }
      return [...new Set(parts.map(Number))];
    });
  return documented(schema, { default: `\`${defaultValue.join(',')}\``, doc });
}

/** `files.example.com` or `*.example.com`: labels of `a-z 0-9 -` (checked per label, no nested regex). */
function isHostPattern(host: string): boolean {
  const labels = (host.startsWith('*.') ? host.slice(2) : host).split('.');
  return labels.every((label) => /^[a-z0-9-]+$/.test(label));
}

function hostListVar(doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return [] as string[];
      const hosts = raw
        .split(',')
        .map((h) => h.trim().toLowerCase().replace(/\.$/, ''))
        .filter(Boolean);
      const bad = hosts.filter((h) => !isHostPattern(h) && !/^[0-9a-f:.[\]]+$/.test(h));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected host names or *.suffix wildcards separated by commas (bad: ${bad.join(', ')})`,
        });
        return z.NEVER;
      }
      return hosts;
    });
  return documented(schema, { default: '– (blocks all)', doc });
}

/** `https://ops.example.com,http://127.0.0.1:8080` → normalised origins (`scheme://host[:port]`). */
function originListVar(doc: string) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return [] as string[];
      const entries = raw
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      const bad = entries.filter((e) => tryParseOrigin(e) === null);
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected origins like https://ops.example.com (scheme, host, optional port; no path) separated by commas (bad: ${bad.join(', ')})`,
        });
        return z.NEVER;
      }
      return [...new Set(entries.map((e) => tryParseOrigin(e) ?? ''))];
    });
  return documented(schema, { default: '–', doc });
}

/** `https://Ops.Example.com:443/` → `https://ops.example.com`; null for anything but a bare http(s) origin. */
function tryParseOrigin(entry: string): string | null {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return null;
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  const web = url.protocol === 'http:' || url.protocol === 'https:';
  return bare && web && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.test(entry) ? url.origin : null;
}

/**
 * Every variable the service reads: its parser, default, range and doc, each written once here.
 * The configuration table of docs/operations.md is generated from it (`npm run docs:config`; a
 * test keeps the two equal), and `Config` below is derived from it.
 */
const EnvSchema = z.object({
  NODE_ENV: enumVar(
    NODE_ENVS,
    'development',
    '`production` refuses default credentials, the private-network switch and a missing `MONGODB_URI`',
  ),
  LOG_LEVEL: enumVar(LOG_LEVELS, 'info', 'pino log level'),

  MONGODB_URI: urlVar(
    ['mongodb', 'mongodb+srv'],
    'MongoDB connection string (a replica set ≥ 6 in production). Unset → the embedded database (local runs only)',
  ),
  MONGODB_DB: stringVar('cdp', 'database when the URI names none'),

  HTTP_HOST: stringVar('127.0.0.1', 'address the API listens on'),
  HTTP_PORT: intVar(8080, 0, 65535, 'port the API listens on; `0` = any free port'),
  API_USERNAME: stringVar(DEV_API_USERNAME, 'HTTP Basic user for `/private`'),
  API_PASSWORD: stringVar(
    DEV_API_PASSWORD,
    'HTTP Basic password for `/private` (the dev password is refused in production)',
    'a dev password',
  ),
  READ_API_TOKEN: optionalStringVar(
    'bearer token of the read path `/v1/contacts/:id/notes`; unset closes it',
  ),
  ALLOWED_ORIGINS: originListVar(
    'origins (`scheme://host[:port]`, comma-separated) allowed to send state-changing requests to `/private` besides the service\'s own, e.g. the dashboard behind a TLS proxy `https://ops.example.com`; any other browser `Origin` gets 403 `CSRF_REJECTED` (docs/api.md "Security")',
  ),
  MAX_BODY_BYTES: intVar(16 * 1024, 256, 1024 * 1024, 'largest accepted request body, in bytes'),

  CRM_API_ROOT_URL: urlVar(['http', 'https'], 'legacy CRM base URL', '– (embedded: the fake CRM)'),
  CRM_API_AUTH: optionalStringVar('value of the `Authorization` header sent to CRM'),
  CRM_NOTES_EXTRACT_TIMEOUT: durationVar(10_000, 100, 300_000, 'per-request CRM timeout, headers and body'),
  CRM_PAGE_SIZE: intVar(500, 1, 1000, 'notes per CRM page; fixed per run (stored on the run)'),
  CRM_MAX_RETRY_AFTER_MS: intVar(30_000, 0, 600_000, 'longest CRM `Retry-After` honoured, in ms'),
  /**
   * 2: one page in flight covers a CRM as slow as the page write; a second covers its latency
   * spread (p95 ≈ 2 × median). More only adds memory (a page each) and CRM requests in flight.
   */
  PAGE_PREFETCH: intVar(
    2,
    0,
    8,
    "CRM pages a run fetches ahead while it writes the current one (and the next page is prepared meanwhile: DESIGN.md §11.8); `0` = strictly one page at a time. Each costs one page's memory and one CRM request in flight",
  ),

  /**
   * One budget for every worker process (#16, DESIGN.md §11.7): set it a little under the CRM's
   * real limit (research: 0.9 ×), so the evenly spaced slots never meet the CRM's own window.
   */
  CRM_RATE_LIMIT_PER_S: optionalRateVar(
    0.01,
    10_000,
    'CRM requests per second for the whole fleet: every CRM request of every process (pages and trigger probes, any tenant) first takes an evenly spaced slot from one budget document in MongoDB, shared round-robin by the running tenants; a 429 lowers the rate (× 0.7, at most once per 5 s), a `Retry-After` pauses every process, 5 s without a 429 raises it by 5 % of this cap, never above it (docs/operations.md "The shared CRM budget"). Unset: each process only shares a 429\'s pause among its own requests',
  ),
  CRM_BURST: intVar(
    1,
    1,
    1_000,
    "requests the shared budget lets out at once after an idle spell (its bucket depth); keep `CRM_RATE_LIMIT_PER_S` × the CRM's window + this under the CRM's window quota. Only with `CRM_RATE_LIMIT_PER_S`",
  ),

  NOTE_TYPE_ALLOWLIST: intListVar([1, 6], '`crm_note_type_id`s in scope; others are counted, not failed'),
  MAX_FAILURE_RATE: ratioVar(0.01, 'a run halts when failed ÷ in-scope processed exceeds this after a page'),
  /**
   * Why 0.5: a realistic tenant migrates ~8 % of its notes with a loss (departed owners, check-ins,
   * a broken file), and departed owners alone can reach a third in an old CRM — no re-run fixes
   * those, so a low limit would halt tenants nobody can repair. When more than half of the notes
   * lose something, it is systematic (owners not in SSO, an attachment host missing) and worth a look.
   */
  MAX_WARNING_RATE: ratioVar(
    0.5,
    'a run halts when notes migrated with a loss (warnings) ÷ in-scope processed exceeds this after a page; `1` never halts on warnings',
  ),
  MATCH_PCT_THRESHOLD: ratioVar(
    0.99,
    'CDP ÷ in-scope CRM at or above this (and a balanced closure) → `completed_success`',
  ),
  CONTACT_CACHE_MAX: intVar(
    50_000,
    0,
    1_000_000,
    'CRM person → CDP contact mappings remembered between pages (a contact has many notes; later pages ask only for new persons); `0` turns it off',
  ),
  CONTACT_CACHE_TTL_MS: intVar(
    600_000,
    1_000,
    86_400_000,
    'how long a remembered mapping is trusted, in ms (bounds how stale a moved contact can be); misses are never remembered',
  ),

  ATTACHMENT_HOSTS: hostListVar(
    'allow-list of attachment hosts: exact names, IP literals and `*.suffix` wildcards (docs/attachments.md)',
  ),
  ATTACHMENT_ALLOW_HTTP: boolVar(false, 'allow `http:` attachment URLs'),
  ATTACHMENT_ALLOWED_PORTS: intListVar([443, 80], 'ports attachment URLs may use'),
  ATTACHMENT_ALLOW_PRIVATE_NETWORKS: boolVar(
    false,
    'development only (refused in production): let downloads reach private addresses (the fake CRM on localhost)',
  ),
  /**
   * A download is held in memory while its magic bytes are checked, so peak memory is about
   * ATTACHMENT_CONCURRENCY × this; hence the 1 GiB ceiling.
   */
  MAX_ATTACHMENT_BYTES: intVar(
    25 * 1024 * 1024,
    1,
    1024 * 1024 * 1024,
    'per-attachment byte cap, enforced on the stream',
    '`26214400` (25 MiB)',
  ),
  ATTACHMENT_TIMEOUT_MS: intVar(30_000, 100, 600_000, 'total time per download, in ms'),
  ATTACHMENT_CONCURRENCY: intVar(8, 1, 64, 'downloads at once'),
  ATTACHMENT_MAX_REDIRECTS: intVar(3, 0, 10, 'redirects followed, each re-checked'),
  ATTACHMENT_PROXY_BASE_URL: urlVar(
    ['http', 'https'],
    'stored attachment URL = this + `/` + object key',
    `\`${DEFAULT_PROXY_BASE_URL}\``,
  ),

  S3_ENDPOINT: urlVar(['http', 'https'], 'S3-compatible endpoint (MinIO, the embedded S3)', '– (AWS)'),
  S3_REGION: stringVar('us-east-1', 'S3 region'),
  S3_BUCKET: stringVar('cdp-note-attachments', 'bucket of re-hosted attachments'),
  S3_ACCESS_KEY_ID: optionalStringVar('S3 access key (else the AWS default chain)'),
  S3_SECRET_ACCESS_KEY: optionalStringVar('S3 secret key (else the AWS default chain)'),
  S3_FORCE_PATH_STYLE: boolVar(true, 'path-style bucket addressing'),

  WORKER_CONCURRENCY: intVar(2, 1, 64, 'runs one worker process carries at once (different CIDs)'),
  LEASE_MS: intVar(60_000, 1_000, 3_600_000, 'CID lease, in ms; must exceed twice the heartbeat'),
  LEASE_HEARTBEAT_MS: intVar(15_000, 200, 1_800_000, 'lease renewal interval, in ms'),
  AGENDA_PROCESS_EVERY_MS: intVar(
    5_000,
    100,
    600_000,
    "Agenda's polling interval, in ms (also recovers expired job locks)",
  ),
  AGENDA_LOCK_LIFETIME_MS: intVar(
    120_000,
    1_000,
    3_600_000,
    'Agenda job lock, in ms; kept fresh by the lease heartbeat',
  ),
  SHUTDOWN_TIMEOUT_MS: intVar(
    30_000,
    0,
    600_000,
    'how long SIGTERM waits for runs to finish their page, in ms',
  ),
  CHANGE_STREAMS: enumVar(
    CHANGE_STREAM_MODES,
    'auto',
    'how workers and SSE learn of changes: `auto` probes whether change streams deliver events, `on` forces them, `off` polls',
  ),
  WAVE_TICK_MS: intVar(
    2_000,
    100,
    60_000,
    'how often a wave scheduler looks at its members (starts, outcomes, progress, the stop rule), in ms',
  ),
  STATUS_POLL_MS: intVar(
    1_000,
    50,
    60_000,
    "status-stream polling interval when change streams are off, and the tenants stream's (the console's), in ms",
  ),
});

type Env = z.output<typeof EnvSchema>;

/** The service's configuration: derived from the schema above, never declared by hand. */
export type Config = ReturnType<typeof toConfig>;

function describeGiven(name: string, raw: string | undefined): string {
  if (raw === undefined) return 'nothing (unset)';
  if (SECRET_VARS.has(name)) return `[redacted, ${raw.length} characters]`;
  return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
}

function crossFieldProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.LEASE_MS <= 2 * env.LEASE_HEARTBEAT_MS) {
    problems.push(
      `LEASE_MS: expected more than twice LEASE_HEARTBEAT_MS (${env.LEASE_HEARTBEAT_MS}) so one missed heartbeat never loses the lease, got ${env.LEASE_MS}`,
    );
  }
  if (env.NODE_ENV === 'production') {
    if (!env.API_USERNAME || !env.API_PASSWORD || env.API_PASSWORD === DEV_API_PASSWORD) {
      problems.push(
        'API_PASSWORD: expected a non-default password when NODE_ENV=production, got the default or nothing',
      );
    }
    if (env.ATTACHMENT_ALLOW_PRIVATE_NETWORKS) {
      problems.push(
        'ATTACHMENT_ALLOW_PRIVATE_NETWORKS: expected false when NODE_ENV=production (development only), got true',
      );
    }
    if (!env.MONGODB_URI) {
      problems.push(
        'MONGODB_URI: expected a MongoDB connection string when NODE_ENV=production, got nothing (unset)',
      );
    }
  }
  return problems;
}

/** Parses `env` into a frozen `Config`, or throws `AppError('CONFIG_INVALID')` listing every problem. */
export function parseConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const result = EnvSchema.safeParse(env);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? '?');
      const given = Object.hasOwn(env, name) ? env[name] : undefined;
      problems.push(`${name}: ${issue.message}, got ${describeGiven(name, given)}`);
    }
  } else {
    problems.push(...crossFieldProblems(result.data));
  }
  if (problems.length > 0 || !result.success) {
    throw new AppError('CONFIG_INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  return deepFreeze(toConfig(result.data));
}

function toConfig(env: Env) {
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    mongo: { uri: env.MONGODB_URI, dbName: env.MONGODB_DB },
    http: {
      host: env.HTTP_HOST,
      port: env.HTTP_PORT,
      apiUsername: env.API_USERNAME,
      apiPassword: env.API_PASSWORD,
      readApiToken: env.READ_API_TOKEN,
      allowedOrigins: env.ALLOWED_ORIGINS,
      maxBodyBytes: env.MAX_BODY_BYTES,
    },
    crm: {
      rootUrl: env.CRM_API_ROOT_URL,
      auth: env.CRM_API_AUTH,
      timeoutMs: env.CRM_NOTES_EXTRACT_TIMEOUT,
      pageSize: env.CRM_PAGE_SIZE,
      maxRetryAfterMs: env.CRM_MAX_RETRY_AFTER_MS,
      pagePrefetch: env.PAGE_PREFETCH,
      rateLimitPerS: env.CRM_RATE_LIMIT_PER_S,
      burst: env.CRM_BURST,
    },
    migration: {
      noteTypeAllowlist: env.NOTE_TYPE_ALLOWLIST,
      maxFailureRate: env.MAX_FAILURE_RATE,
      maxWarningRate: env.MAX_WARNING_RATE,
      matchPctThreshold: env.MATCH_PCT_THRESHOLD,
      contactCache: { max: env.CONTACT_CACHE_MAX, ttlMs: env.CONTACT_CACHE_TTL_MS },
    },
    attachments: {
      allowedHosts: env.ATTACHMENT_HOSTS,
      allowHttp: env.ATTACHMENT_ALLOW_HTTP,
      allowedPorts: env.ATTACHMENT_ALLOWED_PORTS,
      allowPrivateNetworks: env.ATTACHMENT_ALLOW_PRIVATE_NETWORKS,
      maxBytes: env.MAX_ATTACHMENT_BYTES,
      timeoutMs: env.ATTACHMENT_TIMEOUT_MS,
      concurrency: env.ATTACHMENT_CONCURRENCY,
      maxRedirects: env.ATTACHMENT_MAX_REDIRECTS,
      proxyBaseUrl: (env.ATTACHMENT_PROXY_BASE_URL ?? DEFAULT_PROXY_BASE_URL).replace(/\/+$/, ''),
    },
    s3: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
    },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      leaseMs: env.LEASE_MS,
      heartbeatMs: env.LEASE_HEARTBEAT_MS,
      processEveryMs: env.AGENDA_PROCESS_EVERY_MS,
      lockLifetimeMs: env.AGENDA_LOCK_LIFETIME_MS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      changeStreams: env.CHANGE_STREAMS,
      statusPollMs: env.STATUS_POLL_MS,
      waveTickMs: env.WAVE_TICK_MS,
    },
  };
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The names of every variable `parseConfig` reads, for docs and `--help`. */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.shape);

/** Every variable with its default and doc, in schema order: the source of the docs table. */
export function configReference(): ({ name: string } & VariableDoc)[] {
  return Object.entries(EnvSchema.shape).map(([name, schema]) => {
    const meta = schema.meta() as Partial<VariableDoc> | undefined;
    if (!meta?.doc || meta.default === undefined) throw new Error(`config variable ${name} has no doc`);
    return { name, default: meta.default, doc: meta.doc };
  });
}

/** The configuration table of docs/operations.md, as markdown rows. */
export function configReferenceTable(): string {
  const rows = configReference().map((v) => `| \`${v.name}\` | ${v.default} | ${v.doc} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
