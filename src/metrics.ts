/**
 * Prometheus metrics (prom-client) on a registry of their own, plus the hooks that feed them:
 * the run executor's `MigrationObserver`, the CRM client's `onRetry`, the status feed's
 * change-stream observer, SSE open/close and a Koa middleware for HTTP latency. Label values are
 * bounded (statuses, reason codes, route templates), never raw paths or ids.
 */
import type { Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { REASON_CODES, type ReasonCode, severityOf } from './domain.js';
import { routeOf } from './http/route-label.js';
import type { StatusFeedObserver } from './http/run-status-feed.js';
import type { MigrationObserver } from './migration/execute-run.js';

/** What the CRM client reports before each retry wait (compatible with its `RetryInfo`). */
export interface CrmRetryInfo {
  attempt: number;
  status: number | null;
  /** `timeout`, `connection_error`, `http_503`, `invalid_json`, … */
  reason: string;
  delayMs: number;
}

export interface SseObserver {
  streamOpened(): void;
  streamClosed(): void;
}

export interface Metrics {
  registry: Registry;
  migrationObserver: MigrationObserver;
  statusFeedObserver: StatusFeedObserver;
  sse: SseObserver;
  onCrmRetry(info: CrmRetryInfo): void;
  /** Outermost Koa middleware: request duration by method, route template and status. */
  httpMiddleware: Middleware;
}

export interface MetricsOptions {
  /** Also collect Node's default process metrics (heap, event loop lag, …). Default true. */
  defaultMetrics?: boolean;
  /** Prefix of every metric name. Default `cnm_`. */
  prefix?: string;
}

/** A reason label stays one of a small set, whatever a caller passes. */
function boundedReason(reason: string): string {
  return /^[a-z0-9_]{1,32}$/.test(reason) ? reason : 'other';
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const p = options.prefix ?? 'cnm_';
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: p });
  const registers = [registry];

  const runsFinished = new Counter({
    name: `${p}runs_finished_total`,
    help: 'Runs that reached a terminal status, by status',
    labelNames: ['status'] as const,
    registers,
  });
  const notesMigrated = new Counter({
    name: `${p}notes_migrated_total`,
    help: 'Notes inserted into contact_notes',
    registers,
  });
  const notesSkipped = new Counter({
    name: `${p}notes_skipped_total`,
    help: 'Notes already in contact_notes (left untouched)',
    registers,
  });
  const notesOutOfScope = new Counter({
    name: `${p}notes_out_of_scope_total`,
    help: 'Notes of a note type outside NOTE_TYPE_ALLOWLIST',
    registers,
  });
  const noteProblems = new Counter({
    name: `${p}note_problems_total`,
    help: 'Failure records by reason code and severity (failure = not migrated, warning = migrated with a loss)',
    labelNames: ['reason_code', 'severity'] as const,
    registers,
  });
  const notesFailed = new Counter({
    name: `${p}notes_failed_total`,
    help: 'Notes not migrated',
    registers,
  });
  const pageSeconds = new Histogram({
    name: `${p}page_duration_seconds`,
    help: 'Time to process one CRM page (fetch, pipeline, write, progress update)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const crmRetries = new Counter({
    name: `${p}crm_retries_total`,
    help: 'CRM requests retried, by cause',
    labelNames: ['reason'] as const,
    registers,
  });
  const httpSeconds = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: 'HTTP request duration by method, route template and status (SSE streams excluded)',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const sseOpen = new Gauge({
    name: `${p}sse_streams_open`,
    help: 'Status SSE streams open right now',
    registers,
  });
  const changeStreamsOpen = new Gauge({
    name: `${p}status_change_streams_open`,
    help: 'MongoDB change streams open for status SSE clients right now',
    registers,
  });

  const reasonCodes = new Set<string>(REASON_CODES);
  const isReasonCode = (code: string): code is ReasonCode => reasonCodes.has(code);

  const migrationObserver: MigrationObserver = {
    pageProcessed(_run, outcome, pageMs) {
      notesMigrated.inc(outcome.migrated);
      notesSkipped.inc(outcome.skipped);
      notesFailed.inc(outcome.failed);
      notesOutOfScope.inc(outcome.outOfScope);
      for (const [code, n] of Object.entries(outcome.problemsByReason)) {
        if (n === undefined || n <= 0 || !isReasonCode(code)) continue;
        noteProblems.inc({ reason_code: code, severity: severityOf(code) }, n);
      }
      pageSeconds.observe(pageMs / 1000);
    },
    runFinished(_run, status) {
      runsFinished.inc({ status });
    },
  };

  const httpMiddleware: Middleware = async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      if (ctx.response.type !== 'text/event-stream') {
        httpSeconds.observe(
          { method: ctx.method, route: routeOf(ctx), status: String(ctx.status) },
          (performance.now() - started) / 1000,
        );
      }
    }
  };

  return {
    registry,
    migrationObserver,
    statusFeedObserver: {
      changeStreamOpened: () => changeStreamsOpen.inc(),
      changeStreamClosed: () => changeStreamsOpen.dec(),
    },
    sse: { streamOpened: () => sseOpen.inc(), streamClosed: () => sseOpen.dec() },
    onCrmRetry: (info) => crmRetries.inc({ reason: boundedReason(info.reason) }),
    httpMiddleware,
  };
}
