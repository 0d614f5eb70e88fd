/**
 * `GET /private/notes/migration/runs?cid=&limit=`: the run history of a CID, newest first.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import type { RunsRepository } from '../db/runs-repository.js';
import { cidSchema, limitSchema, parseInput } from './parse-input.js';
import { toRunHistoryEntry } from './status-view.js';

export const RUNS_DEFAULT_LIMIT = 20;
export const RUNS_MAX_LIMIT = 100;

export const RunsQuerySchema = z.strictObject({
  cid: cidSchema,
  limit: limitSchema(RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT),
});

export interface RunRouteDeps {
  runs: Pick<RunsRepository, 'listForCid'>;
}

export function registerRunRoutes(router: Router, deps: RunRouteDeps): void {
  router.get('/private/notes/migration/runs', async (ctx) => {
    const { cid, limit } = parseInput(RunsQuerySchema, ctx.query, 'query');
    const runs = await deps.runs.listForCid(cid, limit);
    ctx.body = { cid, runs: runs.map(toRunHistoryEntry) };
  });
}
