/**
 * A wave's scheduler (#16, DESIGN.md §11.7), carried by one Agenda job per wave generation: claim
 * the wave's lease, then every `tickMs` — take each member's state from its run, sample the fleet,
 * apply the stop rule and the canary gate, start members up to `max_parallel_tenants`, cancel
 * when asked — until the wave ends, or is paused with nothing left running. Every write is fenced
 * on the lease epoch; the rules are `wave-rules.ts`, one start is `start-member.ts`. About 390
 * lines: the loop and its steps (sync, start, cancel, end) share one scheduler state and one
 * fencing epoch, and read best as one flow.
 */
import type { CrmBudgetRepository } from '../../db/crm-budget-repository.js';
import type { WaveDoc, WaveMemberDoc, WavePauseDoc } from '../../db/documents.js';
import { isTransientMongoError } from '../../db/mongo-errors.js';
import type { RunsRepository } from '../../db/runs-repository.js';
import type { WavesRepository } from '../../db/waves-repository.js';
import { isTerminalWaveState } from '../../domain.js';
import { toError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { createFleetSampler, type FleetSampler } from './fleet-sampler.js';
import { type Trigger, triggerMember } from './start-member.js';
import { claimWaveLease, type HeldWaveLease } from './wave-lease.js';
import { changedOnly, memberChangesFromRun } from './wave-member-sync.js';
import { isActiveMember, isRetryable, type MemberToStart, planWave } from './wave-rules.js';

/** Hooks for metrics; never allowed to break a scheduler. */
export interface WaveObserver {
  /** The wave as this tick left it. */
  sampled?(wave: WaveDoc): void;
  ended?(waveId: string): void;
}

export interface WaveSchedulerDeps {
  waves: WavesRepository;
  runs: Pick<RunsRepository, 'get' | 'getMany'>;
  /** The shared CRM budget, for fleet visibility; null when there is none (CRM_RATE_LIMIT_PER_S unset). */
  budget: { repo: Pick<CrmBudgetRepository, 'get'>; key: string } | null;
  /** `triggerMigration` with the member's preallocated run id. */
  trigger: Trigger;
  /** Asks the CID's run in progress to stop after its page (`cancelMigration`); nothing to cancel is fine. */
  cancelRun: (cid: string) => Promise<void>;
  newRunId: () => string;
  logger: Logger;
  now: () => Date;
  owner: string;
  /** `retryLaterMs`: how long a refused member waits (default WAVE_RETRY_LATER_MS; tests shorten it). */
  config: { leaseMs: number; heartbeatMs: number; tickMs: number; retryLaterMs?: number };
  observer?: WaveObserver | undefined;
}

export interface WaveJobRef {
  waveId: string;
  generation: number;
}

export interface WaveSchedulerOptions {
  shutdown?: AbortSignal;
  onHeartbeat?: () => Promise<void>;
}

export type WaveSchedulerExit =
  | { kind: 'finished'; reason: string }
  | { kind: 'retry-later'; retryInMs: number; reason: string }
  | { kind: 'handed-off' }
  | { kind: 'lease-lost' }
  | { kind: 'nothing-to-do'; reason: string };

/** After an unexpected error the job comes back after this long (the wave resumes where it was). */
const ERROR_RETRY_MS = 10_000;

interface SchedulerState {
  deps: WaveSchedulerDeps;
  waveId: string;
  lease: HeldWaveLease;
  log: Logger;
  fleet: FleetSampler;
  /** Runs this scheduler already asked to stop (a cancelling wave). */
  cancelAsked: Set<string>;
}

export async function runWaveScheduler(
  deps: WaveSchedulerDeps,
  job: WaveJobRef,
  options: WaveSchedulerOptions = {},
): Promise<WaveSchedulerExit> {
  const claim = await claimWaveLease(deps, job.waveId, job.generation, {
    owner: deps.owner,
    leaseMs: deps.config.leaseMs,
    heartbeatMs: deps.config.heartbeatMs,
    ...(options.onHeartbeat ? { onHeartbeat: options.onHeartbeat } : {}),
  });
  if (claim.kind === 'busy')
    return { kind: 'retry-later', retryInMs: claim.retryInMs, reason: 'another scheduler holds the wave' };
  if (claim.kind !== 'claimed') return claim;
  const { lease } = claim;
  const log = deps.logger.child({
    wave_id: job.waveId,
    generation: job.generation,
    epoch: lease.epoch,
    owner: deps.owner,
  });
  log.info('wave scheduler claimed the wave');
  const state: SchedulerState = {
    deps,
    waveId: job.waveId,
    lease,
    log,
    fleet: createFleetSampler(),
    cancelAsked: new Set(),
  };
  try {
    return await loop(state, job, options);
  } catch (e) {
    const err = toError(e);
    if (lease.lost.aborted) return { kind: 'lease-lost' };
    if (isTransientMongoError(err))
      log.warn({ err }, 'wave scheduler: transient database error; handing off');
    else log.error({ err }, 'wave scheduler failed; the job retries and the wave continues where it was');
    await lease.handOff().catch(() => undefined);
    return { kind: 'retry-later', retryInMs: ERROR_RETRY_MS, reason: err.message };
  } finally {
    lease.stop();
  }
}

async function loop(
  state: SchedulerState,
  job: WaveJobRef,
  options: WaveSchedulerOptions,
): Promise<WaveSchedulerExit> {
  const { deps, lease } = state;
  for (;;) {
    if (lease.lost.aborted) return { kind: 'lease-lost' };
    const wave = await deps.waves.get(state.waveId);
    if (!wave || isTerminalWaveState(wave.state)) return ended(state, `wave is ${wave?.state ?? 'gone'}`);
    if (wave.generation !== job.generation) {
      // Resumed or cancelled since this job was enqueued: the newest generation's job takes over.
      await lease.handOff();
      return { kind: 'finished', reason: `superseded by generation ${wave.generation}` };
    }
    const exit = await tick(state, wave);
    if (exit) return exit;
    if (options.shutdown?.aborted) {
      await lease.handOff();
      state.log.info('wave scheduler handed off at shutdown');
      return { kind: 'handed-off' };
    }
    await pause(deps.config.tickMs, [lease.lost, ...(options.shutdown ? [options.shutdown] : [])]);
  }
}

/** One look at the wave; an exit when the scheduler is done with it. */
async function tick(state: SchedulerState, read: WaveDoc): Promise<WaveSchedulerExit | null> {
  const wave = await syncMembers(state, read);
  if (!wave) return { kind: 'lease-lost' };
  safely(state, () => state.deps.observer?.sampled?.(wave));
  if (wave.state === 'cancelling') return cancelMembers(state, wave);
  await finishInterruptedStarts(state, wave);
  const plan = planWave(wave, state.deps.now().getTime());
  if (plan.pause) {
    const pauseDoc = rulePauseDoc(
      wave,
      plan.pause.cause,
      plan.pause.message,
      plan.pause.members,
      state.deps.now(),
    );
    if (await state.deps.waves.pauseByRule(wave._id, state.lease.epoch, pauseDoc, state.deps.now())) {
      state.log.warn({ cause: pauseDoc.cause, members: pauseDoc.members }, 'wave_paused');
    }
    return null;
  }
  for (const member of plan.start) await startMember(state, wave, member);
  if (wave.state === 'paused' && !wave.members.some(isActiveMember)) {
    // Paused with nothing running: the scheduler leaves; a resume starts a new one.
    await state.lease.handOff();
    return { kind: 'finished', reason: 'paused with nothing running' };
  }
  if (!plan.idle || wave.state !== 'running') return null;
  const now = state.deps.now();
  if (!(await state.deps.waves.finish(wave._id, state.lease.epoch, 'running', 'completed', now))) return null;
  state.log.info({ counts: countByState(wave.members) }, 'wave_completed');
  return ended(state, 'wave completed');
}

/** Takes each active member's state from its run, samples the fleet, writes both; the wave as written. */
async function syncMembers(state: SchedulerState, wave: WaveDoc): Promise<WaveDoc | null> {
  const { deps } = state;
  const activeRunIds = wave.members.flatMap((m) => (isActiveMember(m) && m.run_id ? [m.run_id] : []));
  const runs = new Map((await deps.runs.getMany(activeRunIds)).map((r) => [r._id, r]));
  const budget = deps.budget ? await deps.budget.repo.get(deps.budget.key) : null;
  const now = deps.now();
  const sampled = state.fleet.sample(
    now.getTime(),
    budget,
    [...runs.values()]
      .filter((r) => r.status === 'in_progress')
      .map((r) => ({ runId: r._id, processed: r.notes_processed })),
  );
  const changes = new Map<number, Partial<WaveMemberDoc>>();
  for (const [index, member] of wave.members.entries()) {
    const run = member.run_id ? runs.get(member.run_id) : undefined;
    if (!isActiveMember(member) || !run) continue;
    const next = memberChangesFromRun(member, run);
    if (run.status === 'in_progress') {
      Object.assign(
        next,
        changedOnly(member, {
          notes_per_s: sampled.members.get(run._id)?.notesPerS ?? null,
          crm_rate_limited: state.fleet.rateLimitedOf(member.cid),
        }),
      );
    }
    if (Object.keys(next).length > 0) changes.set(index, next);
  }
  if (!(await deps.waves.updateMembers(wave._id, state.lease.epoch, changes, { fleet: sampled.fleet, now })))
    return null;
  return withChanges({ ...wave, fleet: sampled.fleet }, changes);
}

/** Members left `starting` (a takeover, an unknown trigger outcome) whose run does not exist: trigger again, same id. */
async function finishInterruptedStarts(state: SchedulerState, wave: WaveDoc): Promise<void> {
  const nowMs = state.deps.now().getTime();
  for (const [index, member] of wave.members.entries()) {
    if (member.state !== 'starting' || !member.run_id) continue;
    if (member.retry_at && member.retry_at.getTime() > nowMs) continue;
    state.log.info({ cid: member.cid, run_id: member.run_id }, 'wave member start resumed');
    await triggerAndRecord(state, wave, index, member, member.run_id);
  }
}

async function startMember(
  state: SchedulerState,
  wave: WaveDoc,
  { index, canary }: MemberToStart,
): Promise<void> {
  const { deps } = state;
  const member = wave.members[index];
  if (!member) return;
  const runId = deps.newRunId();
  const now = deps.now();
  const starting: Partial<WaveMemberDoc> = {
    state: 'starting',
    canary,
    run_id: runId,
    attempt_generation: wave.generation,
    reason: null,
    retry_at: null,
    diagnosis: null,
    progress_pct: 0,
    notes_processed: 0,
    notes_total: null,
    notes_per_s: null,
    started_at: now,
    finished_at: null,
  };
  // The commit point of a start: only while the wave is still running (a pause wins the race).
  if (
    !(await deps.waves.updateMembers(wave._id, state.lease.epoch, new Map([[index, starting]]), {
      whileRunning: true,
      now,
    }))
  ) {
    return;
  }
  state.log.info(
    { cid: member.cid, run_id: runId, canary, retry: isRetryable(member, wave.generation) },
    'wave member starting',
  );
  await triggerAndRecord(state, wave, index, { ...member, ...starting }, runId);
}

async function triggerAndRecord(
  state: SchedulerState,
  wave: WaveDoc,
  index: number,
  member: WaveMemberDoc,
  runId: string,
): Promise<void> {
  const { deps } = state;
  const request = { kind: wave.kind, mode: 'restart' as const, triggeredBy: `wave:${wave._id}` };
  const outcome = await triggerMember(
    deps.trigger,
    member,
    request,
    runId,
    deps.now(),
    deps.config.retryLaterMs,
  );
  let changes: Partial<WaveMemberDoc>;
  if (outcome.kind === 'started') {
    const run = await deps.runs.get(runId);
    changes = run ? memberChangesFromRun(member, run) : {};
  } else {
    changes = outcome.changes;
    state.log.info(
      { cid: member.cid, run_id: runId, outcome: outcome.kind, reason: changes.reason },
      'wave member not started',
    );
  }
  if (Object.keys(changes).length === 0) return;
  await deps.waves.updateMembers(wave._id, state.lease.epoch, new Map([[index, changes]]), {
    now: deps.now(),
  });
}

/** A cancelling wave: stop every active member's run, mark the rest cancelled, end once nothing runs. */
async function cancelMembers(state: SchedulerState, wave: WaveDoc): Promise<WaveSchedulerExit | null> {
  const { deps } = state;
  const now = deps.now();
  const changes = new Map<number, Partial<WaveMemberDoc>>();
  for (const [index, member] of wave.members.entries()) {
    if (member.state === 'running' && member.run_id && !state.cancelAsked.has(member.run_id)) {
      await deps.cancelRun(member.cid);
      state.cancelAsked.add(member.run_id);
    } else if (
      member.state === 'pending' ||
      member.state === 'starting' ||
      isRetryable(member, wave.generation)
    ) {
      // `starting` here has no run (the sync would have found it): the start is not repeated.
      changes.set(index, {
        state: 'cancelled',
        reason: { code: 'WAVE_CANCELLED', message: 'the wave was cancelled before this member started' },
        retry_at: null,
        finished_at: now,
      });
    }
  }
  if (changes.size > 0 && !(await deps.waves.updateMembers(wave._id, state.lease.epoch, changes, { now }))) {
    return { kind: 'lease-lost' };
  }
  // Running members end `cancelled` after their current page; the sync of a later tick sees it.
  if (withChanges(wave, changes).members.some((m) => isActiveMember(m))) return null;
  if (!(await deps.waves.finish(wave._id, state.lease.epoch, 'cancelling', 'cancelled', now))) return null;
  state.log.info({ counts: countByState(wave.members) }, 'wave_cancelled');
  return ended(state, 'wave cancelled');
}

function rulePauseDoc(
  wave: WaveDoc,
  cause: WavePauseDoc['cause'],
  message: string,
  indices: number[],
  at: Date,
): WavePauseDoc {
  return {
    cause,
    message,
    by: 'stop rule',
    at,
    members: indices.flatMap((i) => {
      const m = wave.members[i];
      return m ? [{ cid: m.cid, state: m.state, run_id: m.run_id, diagnosis: m.diagnosis }] : [];
    }),
  };
}

function withChanges(wave: WaveDoc, changes: ReadonlyMap<number, Partial<WaveMemberDoc>>): WaveDoc {
  if (changes.size === 0) return wave;
  return { ...wave, members: wave.members.map((m, i) => ({ ...m, ...changes.get(i) })) };
}

function countByState(members: readonly WaveMemberDoc[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of members) counts[m.state] = (counts[m.state] ?? 0) + 1;
  return counts;
}

function ended(state: SchedulerState, reason: string): WaveSchedulerExit {
  safely(state, () => state.deps.observer?.ended?.(state.waveId));
  return { kind: 'finished', reason };
}

function safely(state: SchedulerState, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    state.log.warn({ err: toError(e) }, 'wave observer failed');
  }
}

/** Waits `ms`, or less when any signal aborts. */
function pause(ms: number, signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const signal = AbortSignal.any(signals);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
