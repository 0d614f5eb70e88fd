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

function intVar(defaultValue: number, min: number, max: number) {
  return z
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
}

function ratioVar(defaultValue: number) {
  return z
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
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration with its unit in the value (`10s`, `1500ms`, `2m`), returned in milliseconds. */
function durationVar(defaultMs: number, minMs: number, maxMs: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return defaultMs;
      const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/.exec(raw.trim());
      const ms = m ? Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? Number.NaN) : Number.NaN;
      if (!Number.isFinite(ms) || ms < minMs || ms > maxMs) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration with a unit (ms, s or m) from ${minMs}ms to ${maxMs}ms, e.g. "10s"`,
        });
        return z.NEVER;
      }
      return Math.round(ms);
    });
}

function boolVar(defaultValue: boolean) {
  return z
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
}

function enumVar<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T[number] => {
      if (unset(raw)) return defaultValue;
      const v = raw.trim();
      if ((values as readonly string[]).includes(v)) return v;
      ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}` });
      return z.NEVER;
    });
}

function urlVar(protocols: string[]) {
  return z
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
}

function stringVar(defaultValue?: string) {
  return z
    .string()
    .optional()
    .transform((raw) => (unset(raw) ? defaultValue : raw.trim()));
}

/** `1,6` → [1, 6]. */
function intListVar(defaultValue: number[]) {
  return z
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
}

function hostListVar() {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return [] as string[];
      const hosts = raw
        .split(',')
        .map((h) => h.trim().toLowerCase().replace(/\.$/, ''))
        .filter(Boolean);
      const bad = hosts.filter(
        (h) => !/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(h) && !/^[0-9a-f:.[\]]+$/.test(h),
      );
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected host names or *.suffix wildcards separated by commas (bad: ${bad.join(', ')})`,
        });
        return z.NEVER;
      }
      return hosts;
    });
}

/** `https://ops.example.com,http://127.0.0.1:8080` → normalised origins (`scheme://host[:port]`). */
function originListVar() {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return [] as string[];
      const origins: string[] = [];
      const bad: string[] = [];
      for (const entry of raw
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)) {
        const origin = tryParseOrigin(entry);
        if (origin === null) bad.push(entry);
        else origins.push(origin);
      }
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected origins like https://ops.example.com (scheme, host, optional port; no path) separated by commas (bad: ${bad.join(', ')})`,
        });
        return z.NEVER;
      }
      return [...new Set(origins)];
    });
}

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

/** Every variable the service reads, with its default. Units are in the names (or the values). */
const EnvSchema = z.object({
  NODE_ENV: enumVar(NODE_ENVS, 'development'),
  LOG_LEVEL: enumVar(LOG_LEVELS, 'info'),

  /** MongoDB connection string (replica set in production). Unset → embedded server (not in production). */
  MONGODB_URI: urlVar(['mongodb', 'mongodb+srv']),
  /** Database name when the URI names none. */
  MONGODB_DB: stringVar('cdp'),

  HTTP_HOST: stringVar('127.0.0.1'),
  HTTP_PORT: intVar(8080, 0, 65535),
  /** HTTP Basic credentials for `/private`. */
  API_USERNAME: stringVar(DEV_API_USERNAME),
  API_PASSWORD: stringVar(DEV_API_PASSWORD),
  /** Bearer token for the read path `/v1/contacts/:id/notes`. */
  READ_API_TOKEN: stringVar(),
  /**
   * Origins besides the service's own that may send state-changing requests to `/private` (the
   * CSRF guard; e.g. the dashboard behind a TLS proxy: `https://ops.example.com`). Default none.
   */
  ALLOWED_ORIGINS: originListVar(),
  /** Largest accepted request body. */
  MAX_BODY_BYTES: intVar(16 * 1024, 256, 1024 * 1024),

  CRM_API_ROOT_URL: urlVar(['http', 'https']),
  CRM_API_AUTH: stringVar(),
  /** Per-request CRM timeout, with its unit: `10s`. */
  CRM_NOTES_EXTRACT_TIMEOUT: durationVar(10_000, 100, 300_000),
  CRM_PAGE_SIZE: intVar(500, 1, 1000),
  /** Longest `Retry-After` the CRM client will honour. */
  CRM_MAX_RETRY_AFTER_MS: intVar(30_000, 0, 600_000),

  NOTE_TYPE_ALLOWLIST: intListVar([1, 6]),
  MAX_FAILURE_RATE: ratioVar(0.01),
  MATCH_PCT_THRESHOLD: ratioVar(0.99),
  /** CRM person → CDP contact mappings remembered between pages (0 turns the cache off). */
  CONTACT_CACHE_MAX: intVar(50_000, 0, 1_000_000),
  /** How long a remembered mapping is trusted: bounds how stale a moved contact can be. */
  CONTACT_CACHE_TTL_MS: intVar(600_000, 1_000, 86_400_000),

  /** Attachment host allow-list: exact names, IP literals, `*.suffix` wildcards (docs/attachments.md). Empty blocks all. */
  ATTACHMENT_HOSTS: hostListVar(),
  ATTACHMENT_ALLOW_HTTP: boolVar(false),
  /** Ports attachment URLs may use besides the scheme default. */
  ATTACHMENT_ALLOWED_PORTS: intListVar([443, 80]),
  /** Development only: let attachment downloads reach private networks (the fake CRM on localhost). */
  ATTACHMENT_ALLOW_PRIVATE_NETWORKS: boolVar(false),
  /**
   * Largest attachment, counted on the stream. A download is held in memory while its magic bytes
   * are checked, so peak memory is about ATTACHMENT_CONCURRENCY × this; hence the 1 GiB ceiling.
   */
  MAX_ATTACHMENT_BYTES: intVar(25 * 1024 * 1024, 1, 1024 * 1024 * 1024),
  ATTACHMENT_TIMEOUT_MS: intVar(30_000, 100, 600_000),
  ATTACHMENT_CONCURRENCY: intVar(8, 1, 64),
  ATTACHMENT_MAX_REDIRECTS: intVar(3, 0, 10),
  /** Prefix of the URL stored on a migrated attachment: `{base}/{key}`. */
  ATTACHMENT_PROXY_BASE_URL: urlVar(['http', 'https']),

  S3_ENDPOINT: urlVar(['http', 'https']),
  S3_REGION: stringVar('us-east-1'),
  S3_BUCKET: stringVar('cdp-note-attachments'),
  S3_ACCESS_KEY_ID: stringVar(),
  S3_SECRET_ACCESS_KEY: stringVar(),
  S3_FORCE_PATH_STYLE: boolVar(true),

  WORKER_CONCURRENCY: intVar(2, 1, 64),
  /** CID lease length; must exceed twice the heartbeat. */
  LEASE_MS: intVar(60_000, 1_000, 3_600_000),
  LEASE_HEARTBEAT_MS: intVar(15_000, 200, 1_800_000),
  AGENDA_PROCESS_EVERY_MS: intVar(5_000, 100, 600_000),
  AGENDA_LOCK_LIFETIME_MS: intVar(120_000, 1_000, 3_600_000),
  SHUTDOWN_TIMEOUT_MS: intVar(30_000, 0, 600_000),
  /** `auto` probes whether change streams deliver events; `off` forces polling. */
  CHANGE_STREAMS: enumVar(CHANGE_STREAM_MODES, 'auto'),
  /** How often the polling fallback re-reads run status (SSE) when change streams are off. */
  STATUS_POLL_MS: intVar(1_000, 50, 60_000),
});

type Env = z.output<typeof EnvSchema>;

export interface Config {
  nodeEnv: (typeof NODE_ENVS)[number];
  logLevel: (typeof LOG_LEVELS)[number];
  mongo: { uri: string | undefined; dbName: string };
  http: {
    host: string;
    port: number;
    apiUsername: string;
    apiPassword: string;
    readApiToken: string | undefined;
    /** Normalised origins the CSRF guard accepts besides the service's own (ALLOWED_ORIGINS). */
    allowedOrigins: string[];
    maxBodyBytes: number;
  };
  crm: {
    rootUrl: string | undefined;
    auth: string | undefined;
    timeoutMs: number;
    pageSize: number;
    maxRetryAfterMs: number;
  };
  migration: {
    noteTypeAllowlist: number[];
    maxFailureRate: number;
    matchPctThreshold: number;
    contactCache: { max: number; ttlMs: number };
  };
  attachments: {
    allowedHosts: string[];
    allowHttp: boolean;
    allowedPorts: number[];
    allowPrivateNetworks: boolean;
    maxBytes: number;
    timeoutMs: number;
    concurrency: number;
    maxRedirects: number;
    proxyBaseUrl: string;
  };
  s3: {
    endpoint: string | undefined;
    region: string;
    bucket: string;
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    forcePathStyle: boolean;
  };
  worker: {
    concurrency: number;
    leaseMs: number;
    heartbeatMs: number;
    processEveryMs: number;
    lockLifetimeMs: number;
    shutdownTimeoutMs: number;
    changeStreams: (typeof CHANGE_STREAM_MODES)[number];
    statusPollMs: number;
  };
}

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
      problems.push(`${name}: ${issue.message}, got ${describeGiven(name, env[name])}`);
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

function toConfig(env: Env): Config {
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    mongo: { uri: env.MONGODB_URI, dbName: env.MONGODB_DB ?? 'cdp' },
    http: {
      host: env.HTTP_HOST ?? '127.0.0.1',
      port: env.HTTP_PORT,
      apiUsername: env.API_USERNAME ?? DEV_API_USERNAME,
      apiPassword: env.API_PASSWORD ?? DEV_API_PASSWORD,
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
    },
    migration: {
      noteTypeAllowlist: env.NOTE_TYPE_ALLOWLIST,
      maxFailureRate: env.MAX_FAILURE_RATE,
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
      region: env.S3_REGION ?? 'us-east-1',
      bucket: env.S3_BUCKET ?? 'cdp-note-attachments',
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
