/**
 * Starts the HTTP API on a real port over a test database, with every dependency real except the
 * ones a test swaps (CRM probe, job queue, clock). The server is registered with the leak check;
 * `call()` is a small undici client that returns status, headers and the parsed body.
 */
import { randomUUID } from 'node:crypto';

import type { Agenda } from 'agenda';
import type Koa from 'koa';
import { request } from 'undici';

import type { CrmNotesExtractor } from '../../src/crm/crm-notes-extractor.js';
import { createHttpApp, type HttpAppConfig, type HttpAppDeps } from '../../src/http/create-http-app.js';
import {
  createRunStatusFeed,
  type RunStatusFeed,
  type StatusFeedKind,
} from '../../src/http/run-status-feed.js';
import { type HttpServerHandle, startHttpServer } from '../../src/http/start-http-server.js';
import { createSilentLogger, type Logger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { createCancelDeps, createTriggerDeps, type TriggerDepsInput } from '../../src/migration/run-deps.js';
import type { MigrationJobData, MigrationJobQueue } from '../../src/migration/trigger-migration.js';
import type { WaveJobData, WaveJobQueue } from '../../src/migration/waves/wave-commands.js';
import { createWaveCommandDeps } from '../../src/migration/waves/wave-deps.js';
import { makeConfigStamp } from '../fixtures/builders.js';
import { trackResource } from './leak-check.js';
import type { TestDb } from './test-db.js';

export const API_USER = 'ops';
export const API_PASSWORD = 'test-password-123';
export const READ_TOKEN = 'read-token-abc';
export const BASIC = `Basic ${Buffer.from(`${API_USER}:${API_PASSWORD}`).toString('base64')}`;

/** A wave job queue that remembers what was enqueued (no Agenda); keyed on wave and generation. */
export function createRecordingWaveQueue(): WaveJobQueue & { jobs: (WaveJobData & { jobId: string })[] } {
  const jobs: (WaveJobData & { jobId: string })[] = [];
  return {
    jobs,
    enqueue(data) {
      const existing = jobs.find((j) => j.wave_id === data.wave_id && j.generation === data.generation);
      if (existing) return Promise.resolve(existing.jobId);
      const jobId = randomUUID();
      jobs.push({ ...data, jobId });
      return Promise.resolve(jobId);
    },
  };
}

/** A job queue that remembers what was enqueued (no Agenda). */
export function createRecordingQueue(): MigrationJobQueue & {
  jobs: (MigrationJobData & { jobId: string })[];
} {
  const jobs: (MigrationJobData & { jobId: string })[] = [];
  return {
    jobs,
    enqueue(data) {
      const existing = jobs.find((j) => j.run_id === data.run_id);
      if (existing) return Promise.resolve(existing.jobId);
      const jobId = randomUUID();
      jobs.push({ ...data, jobId });
      return Promise.resolve(jobId);
    },
    exists: (jobId) => Promise.resolve(jobs.some((j) => j.jobId === jobId)),
  };
}

export interface ApiOptions {
  extractor?: Pick<CrmNotesExtractor, 'probeOrganization'>;
  jobs?: MigrationJobQueue;
  waveJobs?: WaveJobQueue;
  triggerConfig?: Pick<TriggerDepsInput, 'triggerGraceMs' | 'queuedLockTtlMs'>;
  /** CRM page size stamped on triggered runs; default 3. */
  pageSize?: number;
  feedKind?: StatusFeedKind;
  pollMs?: number;
  config?: Partial<HttpAppConfig>;
  agenda?: Agenda;
  logger?: Logger;
  /** Leak-check scope: `file` for a server shared by the tests of a file. */
  scope?: 'test' | 'file';
  /** Replace any dependency (e.g. a repository that fails). */
  override?: (deps: HttpAppDeps) => HttpAppDeps;
  /** Sees the Koa app before it listens (e.g. to put spies on its routers' handlers). */
  onApp?: (app: Koa) => void;
}

export interface ApiUnderTest {
  url: string;
  server: HttpServerHandle;
  metrics: Metrics;
  feed: RunStatusFeed;
  jobs: MigrationJobQueue;
  waveJobs: WaveJobQueue;
  close(): Promise<void>;
}

/** Every dependency of the app over the test database (no server). */
export function buildApiDeps(
  t: TestDb,
  options: ApiOptions = {},
): {
  deps: HttpAppDeps;
  metrics: Metrics;
  feed: RunStatusFeed;
  jobs: MigrationJobQueue;
  waveJobs: WaveJobQueue;
} {
  const repos = t.repos;
  const logger = options.logger ?? createSilentLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const feed = createRunStatusFeed({
    runs: repos.runs,
    kind: options.feedKind ?? 'polling',
    pollMs: options.pollMs ?? 50,
    logger,
    observer: metrics.statusFeedObserver,
  });
  const jobs = options.jobs ?? createRecordingQueue();
  const waveJobs = options.waveJobs ?? createRecordingWaveQueue();
  const now = () => new Date();
  let deps: HttpAppDeps = {
    trigger: createTriggerDeps({
      repos,
      extractor: options.extractor ?? { probeOrganization: () => Promise.resolve({ total: 3 }) },
      jobs,
      pageSize: options.pageSize ?? 3,
      configStamp: makeConfigStamp({ page_size: options.pageSize ?? 3 }),
      logger,
      now,
      ...options.triggerConfig,
    }),
    cancel: createCancelDeps({ repos, now }),
    rollbackNotes: repos.contactNotes,
    waves: {
      waves: repos.waves,
      commands: createWaveCommandDeps({ repos, jobs: waveJobs, logger, now }),
      pollMs: options.pollMs ?? 50,
    },
    runs: repos.runs,
    failures: repos.failures,
    readPath: { contactNotes: repos.contactNotes, contacts: repos.contacts, users: repos.users },
    statusSource: feed,
    metrics,
    pingDatabase: () => t.db.command({ ping: 1 }),
    logger,
    config: {
      apiUsername: API_USER,
      apiPassword: API_PASSWORD,
      readApiToken: READ_TOKEN,
      maxBodyBytes: 4096,
      statusPollMs: options.pollMs ?? 50,
      ...options.config,
    },
    agenda: options.agenda,
    now,
  };
  if (options.override) deps = options.override(deps);
  return { deps, metrics, feed, jobs, waveJobs };
}

export async function startApi(t: TestDb, options: ApiOptions = {}): Promise<ApiUnderTest> {
  const { deps, metrics, feed, jobs, waveJobs } = buildApiDeps(t, options);
  const app = createHttpApp(deps);
  options.onApp?.(app);
  const server = await startHttpServer(app, {
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: 2_000,
  });
  const untrack = trackResource(
    `HTTP server ${server.url}`,
    () => !server.closed,
    () => server.close(),
    options.scope,
  );
  return {
    url: server.url,
    server,
    metrics,
    feed,
    jobs,
    waveJobs,
    async close() {
      await server.close();
      untrack();
    },
  };
}

export interface CallOptions {
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** Default: valid Basic credentials on /private, the read token on /v1. `null` = none. */
  auth?: string | null;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read response bodies loosely
  json: any;
}

export async function call(
  api: { url: string },
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  const auth =
    options.auth === undefined ? (path.startsWith('/v1/') ? `Bearer ${READ_TOKEN}` : BASIC) : options.auth;
  if (auth !== null) headers.authorization = auth;
  let body: string | Buffer | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(`${api.url}${path}`, { method: method as 'GET', headers, body });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** Reads one metric sample from /metrics (sum over label sets matching `labels`). */
export async function metricValue(
  api: { url: string },
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const { text } = await call(api, 'GET', '/metrics', { auth: null });
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const lbl = Object.fromEntries(
      (m[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const [k, v] = kv.split('=');
          return [k, v?.replace(/^"|"$/g, '')];
        }),
    );
    if (Object.entries(labels).every(([k, v]) => lbl[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
