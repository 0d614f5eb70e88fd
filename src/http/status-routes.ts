/**
 * `GET /private/notes/migration/status?cid=`: the latest run of a CID as the status body, or
 * `{status: "not_started"}` when the CID has no run.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import type { RunsRepository } from '../db/runs-repository.js';
import { cidSchema, parseInput } from './parse-input.js';
import { toStatusView } from './status-view.js';

export const StatusQuerySchema = z.strictObject({ cid: cidSchema });

export interface StatusRouteDeps {
  runs: Pick<RunsRepository, 'latestForCid'>;
}

export function registerStatusRoutes(router: Router, deps: StatusRouteDeps): void {
  router.get('/private/notes/migration/status', async (ctx) => {
    const { cid } = parseInput(StatusQuerySchema, ctx.query, 'query');
    ctx.body = toStatusView(await deps.runs.latestForCid(cid));
  });
}
