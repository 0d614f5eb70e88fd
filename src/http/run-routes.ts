/**
 * `GET /private/notes/migration/runs?cid=&limit=`: the run history of a CID, newest first; and
 * `GET /private/notes/migration/runs/:run_id`: one run with its failure counts by reason code and
 * its page timeline (#17).
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import type { RunDoc } from '../db/documents.js';
import type { FailuresRepository } from '../db/failures-repository.js';
import type { RunsRepository } from '../db/runs-repository.js';
import { type ReasonCode, type Severity, severityOf } from '../domain.js';
import { AppError } from '../errors.js';
import { cidSchema, describeValue, limitSchema, parseInput } from './parse-input.js';
import { type RunHistoryEntry, toRunHistoryEntry } from './status-view.js';

export const RUNS_DEFAULT_LIMIT = 20;
export const RUNS_MAX_LIMIT = 100;

export const RunsQuerySchema = z.strictObject({
  cid: cidSchema,
  limit: limitSchema(RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT),
});

/** Run ids are UUIDs today; any id of these characters is accepted. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const RunPathSchema = z.strictObject({
  run_id: z.unknown().transform((value, ctx): string => {
    if (typeof value === 'string' && RUN_ID_PATTERN.test(value)) return value;
    ctx.addIssue({
      code: 'custom',
      message: `run_id must be 1-64 characters of A-Z a-z 0-9 _ -, got ${describeValue(value)}`,
    });
    return z.NEVER;
  }),
});

export interface ReasonCount {
  reason_code: ReasonCode;
  severity: Severity;
  count: number;
}

export interface RunDetailBody {
  run: RunHistoryEntry;
  /** Failure records of the run by reason code, most first. */
  failures_by_reason: ReasonCount[];
  /** The run's newest committed pages, oldest first. */
  page_timeline: { page: number; at: string; notes_processed: number }[];
}

export interface RunRouteDeps {
  runs: Pick<RunsRepository, 'listForCid' | 'get'>;
  failures: Pick<FailuresRepository, 'countByReason'>;
}

/** Failure counts of a run by reason code, most first (then by code, so the order is stable). */
export async function readReasonCounts(
  failures: Pick<FailuresRepository, 'countByReason'>,
  runId: string,
): Promise<ReasonCount[]> {
  const counts = await failures.countByReason(runId);
  return (Object.entries(counts) as [ReasonCode, number][])
    .map(([reason_code, count]) => ({ reason_code, severity: severityOf(reason_code), count }))
    .sort((a, b) => b.count - a.count || (a.reason_code < b.reason_code ? -1 : 1));
}

/** The run or 404 `NOT_FOUND`. */
export async function readRunOrThrow(runs: Pick<RunsRepository, 'get'>, runId: string): Promise<RunDoc> {
  const run = await runs.get(runId);
  if (!run) throw new AppError('NOT_FOUND', `No run ${runId}`, { details: { run_id: runId } });
  return run;
}

export function registerRunRoutes(router: Router, deps: RunRouteDeps): void {
  router.get('/private/notes/migration/runs', async (ctx) => {
    const { cid, limit } = parseInput(RunsQuerySchema, ctx.query, 'query');
    const runs = await deps.runs.listForCid(cid, limit);
    ctx.body = { cid, runs: runs.map(toRunHistoryEntry) };
  });

  router.get('/private/notes/migration/runs/:run_id', async (ctx) => {
    const { run_id: runId } = parseInput(RunPathSchema, ctx.params, 'path');
    const run = await readRunOrThrow(deps.runs, runId);
    const body: RunDetailBody = {
      run: toRunHistoryEntry(run),
      failures_by_reason: await readReasonCounts(deps.failures, runId),
      page_timeline: (run.page_timeline ?? []).map((p) => ({
        page: p.page,
        at: p.at.toISOString(),
        notes_processed: p.notes_processed,
      })),
    };
    ctx.body = body;
  });
}
