/**
 * What operators do to waves (#16): create, pause, resume, cancel. Each is one conditional update
 * of the wave document, so N concurrent calls change it once; resume and cancel start a new
 * generation and enqueue its scheduler job (keyed on wave and generation: enqueued once).
 */
import { randomUUID } from 'node:crypto';

import type { WaveDoc, WaveMemberDoc } from '../../db/documents.js';
import type { WavesRepository } from '../../db/waves-repository.js';
import type { WaveRunKind, WaveState } from '../../domain.js';
import { AppError, toError } from '../../errors.js';
import type { Logger } from '../../logger.js';

export interface WaveJobData {
  wave_id: string;
  generation: number;
}

/** The scheduler's job queue (Agenda in production). */
export interface WaveJobQueue {
  /** Inserts the scheduler job of a wave generation; a second call for the same one changes nothing. */
  enqueue(data: WaveJobData): Promise<string>;
}

export interface WaveCommandDeps {
  waves: WavesRepository;
  jobs: WaveJobQueue;
  /** Asks the CID's run in progress to stop after its page; nothing to cancel is fine. */
  cancelRun: (cid: string) => Promise<void>;
  logger: Logger;
  now: () => Date;
  newWaveId?: () => string;
}

export interface NewWave {
  members: { cid: string; companySsoId: string }[];
  kind: WaveRunKind;
  canary: number;
  maxParallelTenants: number;
  stopAfterFailedTenants: number;
  createdBy: string;
}

export async function createWave(deps: WaveCommandDeps, input: NewWave): Promise<WaveDoc> {
  const now = deps.now();
  const wave = newWaveDoc(deps.newWaveId?.() ?? randomUUID(), input, now);
  const created = await deps.waves.create(wave);
  if (!created.created) {
    throw new AppError(
      'WAVE_MEMBER_BUSY',
      `${created.busy.length} CID(s) of this wave are members of a wave that has not ended (${describeBusy(created.busy)}); a tenant belongs to one active wave at a time`,
      { details: { busy: created.busy } },
    );
  }
  try {
    await deps.jobs.enqueue({ wave_id: wave._id, generation: wave.generation });
  } catch (e) {
    // Nothing started yet: take the wave back, so its CIDs are free for the next attempt.
    await deps.waves
      .deleteUnstarted(wave._id)
      .catch((u: unknown) =>
        deps.logger.warn({ wave_id: wave._id, err: toError(u) }, 'could not remove a wave whose job failed'),
      );
    throw e;
  }
  deps.logger.info(
    {
      wave_id: wave._id,
      members: wave.members.length,
      kind: wave.kind,
      canary: wave.canary,
      by: input.createdBy,
    },
    'wave created',
  );
  return wave;
}

export async function pauseWave(deps: WaveCommandDeps, waveId: string, by: string): Promise<WaveDoc> {
  const now = deps.now();
  const paused = await deps.waves.pause(
    waveId,
    { cause: 'operator', message: `paused by ${by}`, by, at: now, members: [] },
    now,
  );
  if (!paused) throw await stateConflict(deps, waveId, 'pause', ['running']);
  deps.logger.info({ wave_id: waveId, by }, 'wave paused by an operator');
  return paused;
}

export async function resumeWave(deps: WaveCommandDeps, waveId: string, by: string): Promise<WaveDoc> {
  const resumed = await deps.waves.resume(waveId, deps.now());
  if (!resumed) throw await stateConflict(deps, waveId, 'resume', ['paused']);
  try {
    await deps.jobs.enqueue({ wave_id: waveId, generation: resumed.generation });
  } catch (e) {
    // Without its job nobody would schedule the wave: pause it again, so a later resume retries.
    const now = deps.now();
    const message = `the resume by ${by} could not enqueue its scheduler: ${toError(e).message}`;
    await deps.waves
      .pause(waveId, { cause: 'operator', message, by, at: now, members: [] }, now)
      .catch((u: unknown) =>
        deps.logger.warn({ wave_id: waveId, err: toError(u) }, 'could not re-pause a wave'),
      );
    throw e;
  }
  deps.logger.info({ wave_id: waveId, by, generation: resumed.generation }, 'wave resumed');
  return resumed;
}

/**
 * Stops starting members and asks every running one to stop after its page. A wave already
 * `cancelling` is asked again (its job is enqueued again, idempotently): cancel can be retried.
 */
export async function cancelWave(deps: WaveCommandDeps, waveId: string, by: string): Promise<WaveDoc> {
  const requested =
    (await deps.waves.requestCancel(waveId, by, deps.now())) ??
    (await deps.waves.get(waveId).then((w) => (w?.state === 'cancelling' ? w : null)));
  if (!requested) throw await stateConflict(deps, waveId, 'cancel', ['running', 'paused', 'cancelling']);
  await deps.jobs.enqueue({ wave_id: waveId, generation: requested.generation });
  for (const member of requested.members) {
    if (member.state !== 'running') continue;
    await deps
      .cancelRun(member.cid)
      .catch((e: unknown) =>
        deps.logger.warn(
          { wave_id: waveId, cid: member.cid, err: toError(e) },
          'could not cancel a member run; the scheduler retries',
        ),
      );
  }
  deps.logger.info({ wave_id: waveId, by, generation: requested.generation }, 'wave cancel requested');
  return requested;
}

async function stateConflict(
  deps: WaveCommandDeps,
  waveId: string,
  action: string,
  allowed: readonly WaveState[],
): Promise<AppError> {
  const wave = await deps.waves.get(waveId);
  if (!wave) return new AppError('NOT_FOUND', `No wave ${waveId}`, { details: { wave_id: waveId } });
  return new AppError(
    'WAVE_STATE_CONFLICT',
    `Cannot ${action} wave ${waveId}: it is ${wave.state} (${action} needs ${allowed.join(' or ')})`,
    { details: { wave_id: waveId, state: wave.state } },
  );
}

function describeBusy(busy: { cid: string; wave_id: string }[]): string {
  const shown = busy.slice(0, 5).map((b) => `CID ${b.cid} in wave ${b.wave_id}`);
  return busy.length > 5 ? `${shown.join(', ')}, …` : shown.join(', ');
}

function newWaveDoc(id: string, input: NewWave, now: Date): WaveDoc {
  return {
    _id: id,
    kind: input.kind,
    state: 'running',
    canary: input.canary,
    max_parallel_tenants: input.maxParallelTenants,
    stop_after_failed_tenants: input.stopAfterFailedTenants,
    members: input.members.map(newWaveMember),
    active_cids: input.members.map((m) => m.cid),
    generation: 1,
    scheduler: { owner: null, epoch: 0, expires_at: now, generation: 0 },
    pause: null,
    cancel: null,
    fleet: null,
    created_by: input.createdBy,
    created_at: now,
    updated_at: now,
    finished_at: null,
  };
}

/** A member as a wave starts it: pending, never tried, no run. */
export function newWaveMember(m: { cid: string; companySsoId: string }): WaveMemberDoc {
  return {
    cid: m.cid,
    company_sso_id: m.companySsoId,
    state: 'pending',
    canary: false,
    run_id: null,
    run_ids: [],
    attempts: 0,
    attempt_generation: 0,
    reason: null,
    retry_at: null,
    diagnosis: null,
    progress_pct: 0,
    notes_processed: 0,
    notes_total: null,
    notes_per_s: null,
    crm_rate_limited: null,
    started_at: null,
    finished_at: null,
  };
}
