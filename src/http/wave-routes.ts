/**
 * The wave routes (#16, DESIGN.md §11.7): create, list, show, pause, resume, cancel. Bodies are
 * judged first (415, 413, 400) and nothing is read or written before they pass; the commands in
 * `migration/waves/wave-commands.ts` decide the rest with one conditional update each.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';

import type { WavesRepository } from '../db/waves-repository.js';
import { WAVE_RUN_KINDS } from '../domain.js';
import { AppError } from '../errors.js';
import {
  cancelWave,
  createWave,
  pauseWave,
  resumeWave,
  type WaveCommandDeps,
} from '../migration/waves/wave-commands.js';
import { readJsonBody } from './json-body.js';
import { triggeredByOf } from './migrate-routes.js';
import {
  cidSchema,
  companySsoIdSchema,
  describeValue,
  limitSchema,
  optionalEnumSchema,
  parseInput,
} from './parse-input.js';
import { toWaveSummary, toWaveView } from './wave-view.js';

/** Members of one wave: the wave document stays far below MongoDB's 16 MiB (~400 bytes a member). */
export const MAX_WAVE_MEMBERS = 5_000;
/** A wave body of MAX_WAVE_MEMBERS members (~60 bytes each) fits with room to spare. */
export const WAVE_MAX_BODY_BYTES = 1024 * 1024;
export const MAX_PARALLEL_TENANTS = 256;
export const WAVES_DEFAULT_LIMIT = 20;
export const WAVES_MAX_LIMIT = 200;

/** A wave id as this service makes them (a UUID); anything else cannot name a wave. */
export const WAVE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function intField(name: string, min: number, max: number) {
  return z.unknown().transform((value, ctx): number => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max)
      return value;
    ctx.addIssue({
      code: 'custom',
      message: `${name} must be an integer from ${min} to ${max}, got ${describeValue(value)}`,
    });
    return z.NEVER;
  });
}

const MemberSchema = z.strictObject({ cid: cidSchema, company_sso_id: companySsoIdSchema });

export const CreateWaveBodySchema = z
  .strictObject({
    members: z
      .array(MemberSchema, { error: 'members must be an array of {cid, company_sso_id}' })
      .min(1, { error: 'members must list at least one tenant' })
      .max(MAX_WAVE_MEMBERS, { error: `members may list at most ${MAX_WAVE_MEMBERS} tenants` }),
    canary: intField('canary', 0, MAX_WAVE_MEMBERS).optional(),
    max_parallel_tenants: intField('max_parallel_tenants', 1, MAX_PARALLEL_TENANTS),
    stop_after_failed_tenants: intField('stop_after_failed_tenants', 1, MAX_WAVE_MEMBERS).optional(),
    kind: optionalEnumSchema('kind', WAVE_RUN_KINDS),
  })
  .superRefine((body, ctx) => {
    const seen = new Map<string, number>();
    const dupes: string[] = [];
    for (const [i, m] of body.members.entries()) {
      if (seen.has(m.cid)) dupes.push(`${m.cid} (members ${seen.get(m.cid)} and ${i})`);
      else seen.set(m.cid, i);
    }
    if (dupes.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['members'],
        message: `members must list each cid once, got duplicates: ${dupes.slice(0, 10).join(', ')}`,
      });
    }
    if (body.canary !== undefined && body.canary > body.members.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['canary'],
        message: `canary must be at most the number of members (${body.members.length}), got ${body.canary}`,
      });
    }
  });

export const EmptyBodySchema = z.strictObject({});
export const WaveParamsSchema = z.strictObject({
  wave_id: z.unknown().transform((value, ctx): string => {
    if (typeof value === 'string' && WAVE_ID_PATTERN.test(value)) return value;
    ctx.addIssue({
      code: 'custom',
      message: `wave_id must be a wave id (a UUID), got ${describeValue(value)}`,
    });
    return z.NEVER;
  }),
});
export const WaveListQuerySchema = z.strictObject({
  limit: limitSchema(WAVES_DEFAULT_LIMIT, WAVES_MAX_LIMIT),
});

export interface WaveRouteDeps {
  waves: Pick<WavesRepository, 'get' | 'list'>;
  commands: WaveCommandDeps;
  /** How often the stream looks at the wave (STATUS_POLL_MS). */
  pollMs: number;
}

/** A body that may be empty or `{}` (pause, resume, cancel): anything else is refused as usual. */
async function readEmptyBody(ctx: Context, maxBodyBytes: number): Promise<void> {
  const none =
    ctx.request.length === 0 || (ctx.request.length === undefined && !ctx.get('transfer-encoding'));
  if (none) return;
  parseInput(EmptyBodySchema, await readJsonBody(ctx, { maxBodyBytes }), 'body');
}

export function registerWaveRoutes(router: Router, deps: WaveRouteDeps & { maxBodyBytes: number }): void {
  router.post('/private/notes/waves', async (ctx) => {
    const raw = await readJsonBody(ctx, { maxBodyBytes: WAVE_MAX_BODY_BYTES });
    const body = parseInput(CreateWaveBodySchema, raw, 'body');
    const wave = await createWave(deps.commands, {
      members: body.members.map((m) => ({ cid: m.cid, companySsoId: m.company_sso_id })),
      kind: body.kind ?? 'migrate',
      canary: body.canary ?? 1,
      maxParallelTenants: body.max_parallel_tenants,
      stopAfterFailedTenants: body.stop_after_failed_tenants ?? 1,
      createdBy: triggeredByOf(ctx),
    });
    ctx.status = 201;
    ctx.set('Location', `/private/notes/waves/${wave._id}`);
    ctx.body = { wave_id: wave._id, state: wave.state, members: wave.members.length };
  });

  router.get('/private/notes/waves', async (ctx) => {
    const { limit } = parseInput(WaveListQuerySchema, ctx.query, 'query');
    ctx.body = { items: (await deps.waves.list(limit)).map(toWaveSummary) };
  });

  router.get('/private/notes/waves/:wave_id', async (ctx) => {
    const { wave_id: waveId } = parseInput(WaveParamsSchema, ctx.params, 'path');
    const wave = await deps.waves.get(waveId);
    if (!wave) throw new AppError('NOT_FOUND', `No wave ${waveId}`, { details: { wave_id: waveId } });
    ctx.body = toWaveView(wave, deps.commands.now());
  });

  const action = (name: 'pause' | 'resume' | 'cancel', run: typeof pauseWave) => {
    router.post(`/private/notes/waves/:wave_id/${name}`, async (ctx) => {
      const { wave_id: waveId } = parseInput(WaveParamsSchema, ctx.params, 'path');
      await readEmptyBody(ctx, deps.maxBodyBytes);
      const wave = await run(deps.commands, waveId, triggeredByOf(ctx));
      ctx.body = toWaveView(wave, deps.commands.now());
    });
  };
  action('pause', pauseWave);
  action('resume', resumeWave);
  action('cancel', cancelWave);
}
