/**
 * A worker's claim on one run's CID (DESIGN.md §3): claim the lock (epoch + 1), stamp the run
 * with that epoch, renew on a heartbeat, and say when the lease is lost. The lease is renewed
 * on its own timer, independent of page work, so a slow page never lets it lapse while the
 * worker is alive; a worker that is paused or partitioned loses it and every fenced write fails.
 */
import type { RunConfigStampDoc, RunDoc } from '../db/documents.js';
import type { LocksRepository } from '../db/locks-repository.js';
import type { RunsRepository } from '../db/runs-repository.js';
import { LeaseLostError, toError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface LeaseDeps {
  locks: LocksRepository;
  runs: Pick<RunsRepository, 'get' | 'stampLease' | 'finishOrphaned'>;
  logger: Logger;
  now: () => Date;
}

export interface LeaseOptions {
  owner: string;
  leaseMs: number;
  heartbeatMs: number;
  /** This worker's config stamp, written on the run with the lease epoch (DESIGN.md §11.9). */
  configStamp: RunConfigStampDoc;
  /** Called after each successful renewal (e.g. to touch the Agenda job). Errors are logged. */
  onHeartbeat?: () => Promise<void>;
}

export interface HeldLease {
  readonly cid: string;
  readonly runId: string;
  readonly epoch: number;
  /** Aborted when a renewal finds the lease taken by someone else. */
  readonly lost: AbortSignal;
  /**
   * Renews the lease now and says whether this worker still holds it; when not, `lost` is
   * aborted. For a kind's non-idempotent write (a delete), right before it: a worker that was
   * paused past its lease learns it here instead of at its next heartbeat.
   */
  confirm(): Promise<boolean>;
  /** Stops the heartbeat; idempotent. */
  stop(): void;
  /** Deletes the lock (terminal status reached). */
  release(): Promise<boolean>;
  /** Ends the lease now so another worker can continue the run at once (graceful shutdown). */
  handOff(): Promise<boolean>;
}

export type ClaimOutcome =
  /**
   * `takeover`: another worker held this run before (it died, was fenced out or handed off), so
   * the first page after the checkpoint may be half-written by it: a replayed page.
   */
  | { kind: 'claimed'; lease: HeldLease; run: RunDoc; takeover: boolean }
  /** Another worker holds a live lease on this run: try again once it may have expired. */
  | { kind: 'busy'; retryInMs: number }
  /** Nothing to do: the run is finished, missing, or was ended because its lock is gone. */
  | { kind: 'nothing-to-do'; reason: string };

export async function claimRunLease(
  deps: LeaseDeps,
  runId: string,
  options: LeaseOptions,
): Promise<ClaimOutcome> {
  const run = await deps.runs.get(runId);
  if (!run) return { kind: 'nothing-to-do', reason: 'run not found' };
  if (run.status !== 'in_progress') return { kind: 'nothing-to-do', reason: `run is ${run.status}` };

  const now = deps.now();
  const lock = await deps.locks.claim({
    cid: run.cid,
    runId,
    owner: options.owner,
    leaseMs: options.leaseMs,
    now,
  });
  if (!lock) {
    const current = await deps.locks.get(run.cid);
    if (current?.run_id === runId) {
      return {
        kind: 'busy',
        retryInMs: Math.max(1_000, current.expires_at.getTime() - now.getTime() + 1_000),
      };
    }
    // The CID lock belongs to another run (or none): this run can never own its CID again.
    const reason = current ? `CID lock now belongs to run ${current.run_id}` : 'CID lock is gone';
    await deps.runs.finishOrphaned(
      runId,
      { status: 'failed', error: { code: 'LEASE_LOST', message: reason } },
      now,
    );
    return { kind: 'nothing-to-do', reason };
  }

  const stamped = await deps.runs.stampLease(runId, lock.epoch, options.owner, options.configStamp, now);
  if (!stamped) {
    // The run ended between our read and the claim: give the CID back.
    await deps.locks.release(run.cid, runId, lock.epoch);
    return { kind: 'nothing-to-do', reason: 'run ended while claiming' };
  }
  if (run.config && JSON.stringify(run.config) !== JSON.stringify(options.configStamp)) {
    deps.logger.warn(
      { cid: run.cid, run_id: runId, before: run.config, now: options.configStamp },
      'run config stamp changed at claim: this worker runs with another configuration',
    );
  }
  return {
    kind: 'claimed',
    lease: startHeartbeat(deps, stamped, lock.epoch, options),
    run: stamped,
    takeover: run.lease_epoch > 0,
  };
}

function startHeartbeat(deps: LeaseDeps, run: RunDoc, epoch: number, options: LeaseOptions): HeldLease {
  const lost = new AbortController();
  const log = deps.logger.child({ cid: run.cid, run_id: run._id, epoch });
  let stopped = false;
  let beating = false;

  const renewOrLose = async (): Promise<boolean> => {
    if (lost.signal.aborted) return false;
    const renewed = await deps.locks.renew(run.cid, run._id, epoch, options.leaseMs, deps.now());
    if (!renewed && !lost.signal.aborted) {
      log.error('lease lost: another worker holds the CID lock now');
      lost.abort(
        new LeaseLostError('lease lost: another worker holds the CID lock', {
          cid: run.cid,
          run_id: run._id,
        }),
      );
      stop();
    }
    return renewed;
  };

  const beat = async () => {
    if (stopped || beating) return;
    beating = true;
    try {
      if (!(await renewOrLose())) return;
      await options.onHeartbeat?.();
    } catch (e) {
      // The database may be briefly unreachable: keep beating; fencing protects the data meanwhile.
      log.warn({ err: toError(e) }, 'lease heartbeat failed; retrying');
    } finally {
      beating = false;
    }
  };
  const timer = setInterval(() => void beat(), options.heartbeatMs);
  timer.unref();

  function stop() {
    stopped = true;
    clearInterval(timer);
  }

  return {
    cid: run.cid,
    runId: run._id,
    epoch,
    lost: lost.signal,
    confirm: renewOrLose,
    stop,
    async release() {
      stop();
      return deps.locks.release(run.cid, run._id, epoch);
    },
    async handOff() {
      stop();
      return deps.locks.expire(run.cid, run._id, epoch, deps.now());
    },
  };
}
