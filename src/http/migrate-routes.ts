/**
 * `POST /private/notes/migrate` and `POST /private/notes/migration/cancel` (DESIGN.md §6). The
 * body is judged first (415, 413, 400) and nothing is read or written before it passes; then the
 * guards of `triggerMigration` decide, in their order (flag → already migrated → CRM → lock).
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import { RUN_KINDS, RUN_MODES, type RunKind } from '../domain.js';
import { kindsTriggeredByCid } from '../migration/run-kinds.js';
import {
  type CancelDeps,
  cancelMigration,
  type TriggerDeps,
  triggerMigration,
} from '../migration/trigger-migration.js';
import { readJsonBody } from './json-body.js';
import {
  cidSchema,
  companySsoIdSchema,
  describeValue,
  optionalBooleanSchema,
  optionalEnumSchema,
  parseInput,
} from './parse-input.js';
import { toRunStatusBody } from './status-view.js';

/** A kind this route starts; a kind that acts on a run (rollback) is named with its own route. */
const cidKindSchema = z
  .unknown()
  .transform((value, ctx): RunKind | undefined => {
    const allowed = kindsTriggeredByCid();
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (allowed as string[]).includes(value)) return value as RunKind;
    const ownRoute =
      typeof value === 'string' && (RUN_KINDS as readonly string[]).includes(value)
        ? ` (a ${value} run acts on one run: POST /private/notes/migration/runs/{run_id}/${value})`
        : '';
    ctx.addIssue({
      code: 'custom',
      message: `kind must be one of ${allowed.join(', ')}, got ${describeValue(value)}${ownRoute}`,
    });
    return z.NEVER;
  })
  .optional();

export const MigrateBodySchema = z.strictObject({
  cid: cidSchema,
  company_sso_id: companySsoIdSchema,
  kind: cidKindSchema,
  mode: optionalEnumSchema('mode', RUN_MODES),
  /** `dry_run` only (the trigger refuses it for other kinds): also download and type-check attachments. */
  verify_attachments: optionalBooleanSchema('verify_attachments'),
});

export const CancelBodySchema = z.strictObject({ cid: cidSchema });

export interface MigrateRouteDeps {
  trigger: TriggerDeps;
  cancel: CancelDeps;
  maxBodyBytes: number;
}

/**
 * The audit name of a trigger (DESIGN.md §11.9): the authenticated Basic user, and the tool when
 * our own CLI says it sent the request (`X-Triggered-Via: cli` → `ops (cli)`). The header only
 * labels the principal; it grants nothing.
 */
export function triggeredByOf(ctx: { state: { principal?: unknown }; get(name: string): string }): string {
  const principal = typeof ctx.state.principal === 'string' ? ctx.state.principal : 'unknown';
  const via = ctx.get('x-triggered-via').trim().toLowerCase();
  return /^[a-z][a-z0-9:-]{0,31}$/.test(via) ? `${principal} (${via})` : principal;
}

export function registerMigrateRoutes(router: Router, deps: MigrateRouteDeps): void {
  router.post('/private/notes/migrate', async (ctx) => {
    const raw = await readJsonBody(ctx, { maxBodyBytes: deps.maxBodyBytes });
    const body = parseInput(MigrateBodySchema, raw, 'body');
    const result = await triggerMigration(deps.trigger, {
      cid: body.cid,
      companySsoId: body.company_sso_id,
      kind: body.kind ?? 'migrate',
      mode: body.mode ?? 'restart',
      triggeredBy: triggeredByOf(ctx),
      ...(body.verify_attachments === undefined
        ? {}
        : { options: { verify_attachments: body.verify_attachments } }),
    });
    ctx.status = 200;
    ctx.body = { job_id: result.jobId, run_id: result.runId, status: result.status };
  });

  router.post('/private/notes/migration/cancel', async (ctx) => {
    const raw = await readJsonBody(ctx, { maxBodyBytes: deps.maxBodyBytes });
    const body = parseInput(CancelBodySchema, raw, 'body');
    const run = await cancelMigration(deps.cancel, body.cid);
    ctx.status = 200;
    ctx.body = { ...toRunStatusBody(run), cancel_requested: run.cancel_requested };
  });
}
