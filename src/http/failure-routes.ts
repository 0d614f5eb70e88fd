/**
 * `GET /private/notes/migration/failures`: the failure log of a CID, filtered by run, reason code
 * and severity. JSON is cursor-paginated (`after` = the previous page's `next_cursor`);
 * `format=csv|ndjson` streams every matching record straight from the Mongo cursor, in chunks,
 * waiting for `drain` whenever the socket is full, so memory stays flat at any export size.
 */
import type { ServerResponse } from 'node:http';

import type { Router } from '@koa/router';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';

import type { FailureDoc } from '../db/documents.js';
import type { FailureQuery, FailuresRepository } from '../db/failures-repository.js';
import { REASON_CODES, RUN_KINDS, type RunKind, runKindOf, SEVERITIES } from '../domain.js';
import { toError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { kindsShownByDefault } from '../migration/run-kinds.js';
import {
  cidSchema,
  limitSchema,
  optionalEnumSchema,
  optionalPatternSchema,
  parseInput,
  RUN_ID_PATTERN,
} from './parse-input.js';
import { routeOf } from './route-label.js';

export const FAILURES_DEFAULT_LIMIT = 100;
export const FAILURES_MAX_LIMIT = 1000;
export const EXPORT_FORMATS = ['json', 'csv', 'ndjson'] as const;

const CURSOR_PATTERN = /^[0-9a-f]{24}$/;

export const FailuresQuerySchema = z.strictObject({
  cid: cidSchema,
  run_id: optionalPatternSchema('run_id', RUN_ID_PATTERN, '1-64 characters of A-Z a-z 0-9 _ -'),
  reason_code: optionalEnumSchema('reason_code', REASON_CODES),
  severity: optionalEnumSchema('severity', SEVERITIES),
  kind: optionalEnumSchema('kind', RUN_KINDS),
  after: optionalPatternSchema('after', CURSOR_PATTERN, 'a next_cursor value (24 lowercase hex digits)'),
  limit: z.unknown().optional(),
  format: optionalEnumSchema('format', EXPORT_FORMATS),
});

/** Rows per chunk written to the socket: big enough to amortise writes, small enough to stay flat. */
const EXPORT_CHUNK_ROWS = 500;

export const CSV_COLUMNS = [
  'id',
  'cid',
  'company_sso_id',
  'run_id',
  'kind',
  'legacy_crm_note_id',
  'reason_code',
  'severity',
  'created_at',
  'details',
] as const;

export interface FailureView {
  id: string;
  cid: string;
  company_sso_id: string;
  run_id: string;
  kind: RunKind;
  legacy_crm_note_id: string | null;
  reason_code: string;
  severity: string;
  details: Record<string, unknown>;
  created_at: string;
}

export function toFailureView(doc: FailureDoc): FailureView {
  return {
    id: doc._id.toHexString(),
    cid: doc.cid,
    company_sso_id: doc.company_sso_id,
    run_id: doc.run_id,
    kind: runKindOf(doc),
    legacy_crm_note_id: doc.legacy_crm_note_id,
    reason_code: doc.reason_code,
    severity: doc.severity,
    details: doc.details,
    created_at: doc.created_at.toISOString(),
  };
}

/**
 * A spreadsheet must not run a cell as a formula (CSV injection): a cell starting with
 * `= + - @` or a control character is prefixed with `'`.
 */
export function neutralizeCsvCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function toCsvRecord(doc: FailureDoc): string[] {
  const v = toFailureView(doc);
  return [
    v.id,
    v.cid,
    v.company_sso_id,
    v.run_id,
    v.kind,
    v.legacy_crm_note_id ?? '',
    v.reason_code,
    v.severity,
    v.created_at,
    JSON.stringify(v.details),
  ].map(neutralizeCsvCell);
}

export interface FailureRouteDeps {
  failures: Pick<FailuresRepository, 'list' | 'stream'>;
  logger: Logger;
}

export function registerFailureRoutes(router: Router, deps: FailureRouteDeps): void {
  router.get('/private/notes/migration/failures', async (ctx) => {
    const startedMs = performance.now();
    const q = parseInput(FailuresQuerySchema, ctx.query, 'query');
    const query: FailureQuery = {
      cid: q.cid,
      runId: q.run_id,
      reasonCode: q.reason_code,
      severity: q.severity,
      kinds: kindsOf(q),
    };
    const format = q.format ?? 'json';
    if (format === 'json') {
      const limit = parseInput(limitSchema(FAILURES_DEFAULT_LIMIT, FAILURES_MAX_LIMIT), q.limit, 'query');
      const page = await deps.failures.list(query, { after: q.after, limit });
      ctx.body = { items: page.items.map(toFailureView), next_cursor: page.nextCursor };
      return;
    }
    if (q.after !== undefined || q.limit !== undefined) {
      throw new ValidationError(`after and limit page JSON results; format=${format} exports every match`, {
        location: 'query',
        issues: [
          { code: 'custom', path: ['format'], message: 'do not combine format=csv|ndjson with after/limit' },
        ],
      });
    }
    const rows = deps.failures.stream(query)[Symbol.asyncIterator]();
    // The first read happens before the answer starts, so a database error is still a JSON 500.
    const first = await rows.next();
    ctx.respond = false;
    const res = ctx.res;
    res.statusCode = 200;
    res.setHeader(
      'Content-Type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    );
    res.setHeader('Content-Disposition', `attachment; filename="failures-${q.cid}.${format}"`);
    res.setHeader('Cache-Control', 'no-store');
    const log = deps.logger.child({ cid: q.cid, format });
    try {
      const count = await writeExport(res, first, rows, format);
      res.end();
      log.info({ rows: count }, 'failure export done');
    } catch (e) {
      // Headers are gone: ending the socket without the final chunk tells the client it is cut.
      await rows.return?.(undefined).catch(() => undefined);
      if (e instanceof ClientGoneError) {
        // Not our fault: debug, like every other client that leaves mid-answer (#11).
        log.debug(
          { route: routeOf(ctx), duration_ms: Math.round(performance.now() - startedMs) },
          'client disconnected',
        );
        return;
      }
      log.error({ err: toError(e) }, 'failure export failed mid-stream');
      res.destroy();
    }
  });
}

/**
 * Which kinds' records a query shows (DESIGN.md §11.1): the asked-for kind; every kind of the
 * asked-for run; by default only kinds whose records are shown by default (migrate, repair): a
 * forecast's records or a reconcile's findings never mix into the failure log unless asked for.
 */
function kindsOf(q: { run_id?: string | undefined; kind?: RunKind | undefined }): RunKind[] | undefined {
  if (q.kind !== undefined) return [q.kind];
  if (q.run_id !== undefined) return undefined;
  return kindsShownByDefault();
}

class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGoneError';
  }
}

async function writeExport(
  res: ServerResponse,
  first: IteratorResult<FailureDoc>,
  rows: AsyncIterator<FailureDoc>,
  format: 'csv' | 'ndjson',
): Promise<number> {
  let count = 0;
  let batch: FailureDoc[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const chunk =
      format === 'csv'
        ? stringify(batch.map(toCsvRecord))
        : batch.map((d) => `${JSON.stringify(toFailureView(d))}\n`).join('');
    batch = [];
    await writeChunk(res, chunk);
  };
  if (format === 'csv') await writeChunk(res, stringify([[...CSV_COLUMNS]]));
  let next = first;
  while (!next.done) {
    batch.push(next.value);
    count++;
    if (batch.length >= EXPORT_CHUNK_ROWS) await flush();
    next = await rows.next();
  }
  await flush();
  return count;
}

/** Writes one chunk; when the socket buffer is full, waits for `drain` (or the client leaving). */
function writeChunk(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new ClientGoneError());
  if (res.write(chunk)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      res.off('drain', onDrain);
      reject(new ClientGoneError());
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
