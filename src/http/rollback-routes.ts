/**
 * `POST /private/notes/migration/runs/:run_id/rollback {dry_run?}` (DESIGN.md §11.6). The path and
 * body are judged first and nothing is read before they pass. `dry_run: true` answers the preview
 * counts (computed here, synchronously: it writes nothing); otherwise a run of kind `rollback` is
 * started through the same guards and CID lock as every run.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import { type RollbackDeps, startRollback } from '../migration/start-rollback.js';
import { readJsonBody } from './json-body.js';
import { triggeredByOf } from './migrate-routes.js';
import { describeValue, parseInput, runIdSchema } from './parse-input.js';

export const RollbackPathSchema = z.strictObject({ run_id: runIdSchema });

export const RollbackBodySchema = z.strictObject({
  dry_run: z
    .unknown()
    .transform((value, ctx): boolean | undefined => {
      if (value === undefined || typeof value === 'boolean') return value;
      ctx.addIssue({ code: 'custom', message: `dry_run must be true or false, got ${describeValue(value)}` });
      return z.NEVER;
    })
    .optional(),
});

export interface RollbackRouteDeps {
  rollback: RollbackDeps;
  maxBodyBytes: number;
}

export function registerRollbackRoutes(router: Router, deps: RollbackRouteDeps): void {
  router.post('/private/notes/migration/runs/:run_id/rollback', async (ctx) => {
    const { run_id: runId } = parseInput(RollbackPathSchema, ctx.params, 'path');
    const raw = await readJsonBody(ctx, { maxBodyBytes: deps.maxBodyBytes });
    const body = parseInput(RollbackBodySchema, raw, 'body');
    const answer = await startRollback(deps.rollback, {
      runId,
      dryRun: body.dry_run ?? false,
      triggeredBy: triggeredByOf(ctx),
    });
    const target = {
      cid: answer.target.cid,
      company_sso_id: answer.target.company_sso_id,
      rollback_of: runId,
    };
    ctx.status = 200;
    ctx.body =
      answer.kind === 'preview'
        ? {
            dry_run: true,
            ...target,
            rolled_back_by: answer.target.rolled_back_by ?? null,
            ...answer.preview,
          }
        : {
            dry_run: false,
            ...target,
            job_id: answer.started.jobId,
            run_id: answer.started.runId,
            status: answer.started.status,
          };
  });
}
