/**
 * The decisions of a wave (#16, DESIGN.md §11.7), pure: a wave document and the time in, what to
 * do out — which members start (and which of them are canaries), whether the stop rule or a
 * failed canary pauses the wave, whether it has ended. No I/O: the scheduler acts on the plan.
 *
 * The rules:
 * - **Canaries**: the first `canary` members that get a run are canaries (a member a trigger
 *   guard skips is no canary; the next one takes its place). Until every canary has ended
 *   `completed_success`, no other member starts.
 * - **Stop rule**: `stop_after_failed_tenants` members `halted` or `failed` in the current
 *   generation pause the wave; so does a canary that ends in anything but `completed_success`.
 *   Running members go on; nothing new starts. In a dry-run wave a member whose forecast says a
 *   real run would halt (`would_halt`, #13) counts as halted: a dry run never halts itself, and a
 *   systemic cause found in the canary should not be forecast again in every tenant.
 * - **Resume** (a new generation) retries what stopped the wave: members that halted or failed,
 *   and canaries that did not succeed, in an earlier generation.
 * - At most `max_parallel_tenants` members are `starting` or `running` at once; members start in
 *   list order, a refused one (CID busy) not before its `retry_at`.
 */
import type { WaveDoc, WaveMemberDoc } from '../../db/documents.js';
import { isTerminalStatus, type WaveMemberState } from '../../domain.js';

export interface MemberToStart {
  index: number;
  canary: boolean;
}

export interface RulePause {
  cause: 'stop_rule' | 'canary_failed';
  message: string;
  /** The members that made it so, by index. */
  members: number[];
}

export interface WavePlan {
  start: MemberToStart[];
  pause: RulePause | null;
  /** Nothing left to start, retry or wait for. */
  idle: boolean;
}

const ACTIVE: readonly WaveMemberState[] = ['starting', 'running'];

export const isActiveMember = (m: WaveMemberDoc): boolean => ACTIVE.includes(m.state);

/** A member whose attempt has an outcome (a run's terminal status, or skipped). */
export const hasOutcome = (m: WaveMemberDoc): boolean => m.state === 'skipped' || isTerminalStatus(m.state);

/** A finished dry run whose forecast says the real run would halt. */
const wouldHalt = (m: WaveMemberDoc) =>
  isTerminalStatus(m.state) && (m.diagnosis?.would_halt ?? null) !== null;
const stopsWave = (m: WaveMemberDoc) => m.state === 'halted' || m.state === 'failed' || wouldHalt(m);
const succeeded = (m: WaveMemberDoc) => m.state === 'completed_success' && !wouldHalt(m);
const canaryFailed = (m: WaveMemberDoc) => m.canary && isTerminalStatus(m.state) && !succeeded(m);

/** Did this member stop the wave in an earlier generation (so a resume retries it)? */
export function isRetryable(m: WaveMemberDoc, generation: number): boolean {
  return m.attempt_generation < generation && (stopsWave(m) || canaryFailed(m));
}

/** May this member start now: never started (or refused for now and due again), or to be retried. */
export function isWaiting(m: WaveMemberDoc, generation: number, nowMs: number): boolean {
  if (m.state === 'pending') return m.retry_at === null || m.retry_at.getTime() <= nowMs;
  return isRetryable(m, generation);
}

export function planWave(wave: WaveDoc, nowMs: number): WavePlan {
  const { members, generation } = wave;
  const active = members.filter(isActiveMember).length;
  const current = (m: WaveMemberDoc) => m.attempt_generation === generation;
  const failedCanaries = members.flatMap((m, i) => (current(m) && canaryFailed(m) ? [i] : []));
  const stopped = members.flatMap((m, i) => (current(m) && stopsWave(m) ? [i] : []));
  const pause = rulePause(wave, failedCanaries, stopped);
  const notDone = members.some(
    (m) => isActiveMember(m) || m.state === 'pending' || isRetryable(m, generation),
  );
  if (wave.state !== 'running' || pause) return { start: [], pause, idle: !notDone };

  const free = wave.max_parallel_tenants - active;
  const canaries = members.filter((m) => m.canary);
  const gateOpen = canaries.length >= wave.canary && canaries.every(succeeded);
  const start: MemberToStart[] = [];
  let newCanaries = Math.max(0, wave.canary - canaries.length);
  for (const [index, m] of members.entries()) {
    if (start.length >= free) break;
    if (!isWaiting(m, generation, nowMs)) continue;
    if (gateOpen) start.push({ index, canary: m.canary });
    else if (m.canary) start.push({ index, canary: true });
    else if (newCanaries > 0) {
      newCanaries--;
      start.push({ index, canary: true });
    }
  }
  return { start, pause: null, idle: !notDone };
}

function rulePause(wave: WaveDoc, failedCanaries: number[], stopped: number[]): RulePause | null {
  if (wave.state !== 'running') return null;
  const cids = (list: number[]) => list.map((i) => wave.members[i]?.cid).join(', ');
  if (failedCanaries.length > 0) {
    return {
      cause: 'canary_failed',
      message: `canary ${cids(failedCanaries)} did not complete successfully; no other member starts until it does (fix it, then resume: the canary runs again)`,
      members: [...new Set([...failedCanaries, ...stopped])],
    };
  }
  if (stopped.length >= wave.stop_after_failed_tenants) {
    return {
      cause: 'stop_rule',
      message: `${stopped.length} member(s) halted or failed${wave.kind === 'dry_run' ? ' or would halt' : ''} (${cids(stopped)}); the wave stops after ${wave.stop_after_failed_tenants} (fix the cause, then resume: they run again)`,
      members: stopped,
    };
  }
  return null;
}

/** Where the canary gate stands: `open` once every canary succeeded, `failed` when one did not. */
export type CanaryGate = 'none' | 'waiting' | 'open' | 'failed';

export function canaryGateOf(wave: Pick<WaveDoc, 'canary' | 'members' | 'generation'>): CanaryGate {
  if (wave.canary === 0) return 'none';
  const canaries = wave.members.filter((m) => m.canary);
  if (canaries.some((m) => m.attempt_generation === wave.generation && canaryFailed(m))) return 'failed';
  if (!canaries.every(succeeded)) return 'waiting';
  // Fewer canaries than asked and nobody left who could become one: nothing is held back.
  const couldStart = wave.members.some((m) => !m.canary && m.state === 'pending');
  return canaries.length >= wave.canary || !couldStart ? 'open' : 'waiting';
}
