/**
 * Starting and stopping runs (DESIGN.md §3, §4, §6): the guards in order (flag → already
 * migrated → CRM knows the CID → CID lock), then run + job. The CID lock document is the only
 * arbiter of "busy"; a lock left behind by a crash is recognised as stale and replaced
 * atomically, so no crash blocks the next trigger for longer than `triggerGraceMs`.
 */
import type { CrmNotesExtractor } from '../crm/crm-notes-extractor.js';
import type { LockDoc, RunConfigStampDoc, RunDoc, RunOptionsDoc } from '../db/documents.js';
import type { FeatureFlagsRepository } from '../db/feature-flags-repository.js';
import type { LocksRepository } from '../db/locks-repository.js';
import { EMPTY_COUNTERS, type RunsRepository } from '../db/runs-repository.js';
import { isTerminalStatus, MIGRATION_FLAG, type RunKind, runKindOf, type RunMode } from '../domain.js';
import { AppError, ConflictError, toError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { countersOf } from './run-counters.js';
import { kindsThatChangeNotes, runKindModule, runKindPolicy } from './run-kinds.js';

/**
 * How long a trigger's lock may exist without its run or job before it counts as abandoned: far
 * longer than a trigger takes (a CRM probe with its short retries, three inserts), short enough
 * that a trigger that crashed mid-way blocks its CID for half a minute, not for a lease.
 */
export const TRIGGER_GRACE_MS = 30_000;
/**
 * How long a queued run keeps its CID while its job waits for a worker. A day: a queue backed up
 * behind a long wave must not lose its place; a job deleted from the dashboard is noticed at
 * once anyway (`whyStale` checks that the job exists).
 */
export const QUEUED_LOCK_TTL_MS = 24 * 3_600_000;

export interface MigrationJobData {
  run_id: string;
  cid: string;
  company_sso_id: string;
}

/** The job queue as the trigger sees it (Agenda in production). */
export interface MigrationJobQueue {
  /** Inserts the job for a run (keyed on `run_id`: a second call returns the same job). */
  enqueue(data: MigrationJobData): Promise<string>;
  /** Does the job still exist (it can be deleted from the dashboard)? */
  exists(jobId: string): Promise<boolean>;
}

export interface TriggerDeps {
  flags: Pick<FeatureFlagsRepository, 'isEnabled'>;
  runs: RunsRepository;
  locks: LocksRepository;
  extractor: Pick<CrmNotesExtractor, 'probeOrganization'>;
  jobs: MigrationJobQueue;
  logger: Logger;
  now: () => Date;
  newRunId: () => string;
  /** This process's config stamp, stored on the run until a worker claims it (DESIGN.md §11.9). */
  configStamp: RunConfigStampDoc;
  config: {
    pageSize: number;
    /** A lock younger than this with no run or job may belong to a trigger still in flight. */
    triggerGraceMs: number;
    /** How long a queued lock stays valid while its job waits for a worker. */
    queuedLockTtlMs: number;
  };
}

export interface TriggerRequest {
  cid: string;
  companySsoId: string;
  kind: RunKind;
  mode: RunMode;
  /** Who asks: the Basic-auth user, `cli`, `wave:<id>`. */
  triggeredBy: string;
  /** The run this run acts on; required exactly for kinds whose policy `targetsRun` (rollback). */
  targetRunId?: string;
  /**
   * Called once the CID lock is held, before the run is created: a guard that must be checked
   * again under the lock (e.g. "not rolled back yet"). Throwing releases the lock; nothing is written.
   */
  recheckUnderLock?: () => Promise<void>;
  /** Options of the run (only those its kind accepts); stored on the run for the worker. */
  options?: RunOptionsDoc;
}

export interface TriggerResult {
  jobId: string;
  runId: string;
  status: 'in_progress';
}

export async function triggerMigration(deps: TriggerDeps, req: TriggerRequest): Promise<TriggerResult> {
  const log = deps.logger.child({ cid: req.cid, kind: req.kind });
  const policy = runKindPolicy(req.kind);
  assertOptionsAccepted(req);
  assertModeAccepted(req);
  if (policy.requiresFlag && !(await deps.flags.isEnabled(req.cid, MIGRATION_FLAG))) {
    throw new AppError(
      'FLAG_DISABLED',
      `Migration is not enabled for CID ${req.cid} (feature flag ${MIGRATION_FLAG} is off)`,
      {
        details: { cid: req.cid, flag: MIGRATION_FLAG },
      },
    );
  }
  if (policy.targetsRun !== (req.targetRunId !== undefined)) {
    throw new ValidationError(
      policy.targetsRun
        ? `a ${req.kind} run acts on another run: start it with POST /private/notes/migration/runs/{run_id}/${req.kind}`
        : `a ${req.kind} run acts on a CID, not on a run`,
      { location: 'body', issues: [{ code: 'custom', path: ['kind'], message: `kind ${req.kind}` }] },
    );
  }
  // The CID's latest note-changing run decides: a rollback after the run that completed it reopens it.
  const latest = policy.refusedAfterSuccess
    ? await deps.runs.latestForCid(req.cid, kindsThatChangeNotes())
    : null;
  if (latest?.status === 'completed_success' && runKindPolicy(runKindOf(latest)).completesMigration) {
    throw new ConflictError(
      'ALREADY_MIGRATED',
      `CID ${req.cid} was already migrated successfully by run ${latest._id}`,
      {
        run_id: latest._id,
        finished_at: latest.finished_at,
      },
    );
  }
  const resumeFrom = req.mode === 'resume' ? await findRunToResume(deps, req.cid, req.kind) : null;

  // CRM must know the organisation before anything is written (404 CID_NOT_FOUND, 502 CRM_UNAVAILABLE);
  // a kind that never reads CRM (rollback) works while CRM is down.
  if (policy.readsCrm) await deps.extractor.probeOrganization(req.cid);

  const runId = deps.newRunId();
  const now = deps.now();
  await acquireLock(deps, req.cid, runId, now, log);
  try {
    await req.recheckUnderLock?.();
    await deps.runs.create(
      {
        runId,
        cid: req.cid,
        companySsoId: req.companySsoId,
        kind: req.kind,
        mode: req.mode,
        triggeredBy: req.triggeredBy,
        config: deps.configStamp,
        resumedFromRunId: resumeFrom?._id ?? null,
        checkpointPage: resumeFrom?.checkpoint.page ?? 0,
        checkpointCursor: resumeFrom?.checkpoint.cursor ?? null,
        pageSize: resumeFrom?.page_size ?? deps.config.pageSize,
        ...(req.targetRunId === undefined ? {} : { targetRunId: req.targetRunId }),
        ...(req.options ? { options: req.options } : {}),
        ...(resumeFrom ? { kindFields: runKindModule(req.kind).resumeFieldsOf?.(resumeFrom) ?? {} } : {}),
      },
      now,
      // A resumed run continues the old run's counters, so its totals cover the whole tenant.
      resumeFrom ? countersOf(resumeFrom) : EMPTY_COUNTERS,
    );
    const jobId = await deps.jobs.enqueue({ run_id: runId, cid: req.cid, company_sso_id: req.companySsoId });
    await deps.runs.setJobId(runId, jobId);
    await deps.locks.extendQueued(
      req.cid,
      runId,
      new Date(deps.now().getTime() + deps.config.queuedLockTtlMs),
      deps.now(),
    );
    log.info(
      {
        run_id: runId,
        job_id: jobId,
        mode: req.mode,
        triggered_by: req.triggeredBy,
        resumed_from_run_id: resumeFrom?._id ?? null,
        ...(req.targetRunId === undefined ? {} : { target_run_id: req.targetRunId }),
      },
      'migration triggered',
    );
    return { jobId, runId, status: 'in_progress' };
  } catch (e) {
    // Undo what this trigger wrote, so the CID is not left busy. If the undo fails too, the lock
    // is recognised as stale after TRIGGER_GRACE_MS (no run or no job), so nothing stays stuck.
    const undoFailed = (what: string) => (u: unknown) =>
      log.warn({ run_id: runId, err: toError(u) }, `trigger undo failed: ${what}`);
    await deps.runs
      .finishUnclaimed(
        runId,
        { status: 'failed', error: { code: 'INTERNAL', message: `trigger failed: ${toError(e).message}` } },
        deps.now(),
      )
      .catch(undoFailed('mark the run failed'));
    await deps.locks.releaseQueued(req.cid, runId).catch(undoFailed('release the queued lock'));
    throw e;
  }
}

/** An option the kind does not take is a mistake in the request (400), judged before any read. */
function assertOptionsAccepted(req: TriggerRequest): void {
  const accepted: readonly string[] = runKindPolicy(req.kind).acceptsOptions;
  const refused = Object.entries(req.options ?? {})
    .filter(([name, value]) => value !== undefined && !accepted.includes(name))
    .map(([name]) => name);
  if (refused.length === 0) return;
  throw new ValidationError(
    `${refused.join(', ')} ${refused.length === 1 ? 'does' : 'do'} not apply to kind ${req.kind}${accepted.length > 0 ? ` (it takes ${accepted.join(', ')})` : ''}`,
    {
      location: 'body',
      issues: refused.map((name) => ({
        code: 'custom',
        path: [name],
        message: `${name} applies only to kinds that take it, not to ${req.kind}`,
      })),
    },
  );
}

/** `mode: "resume"` for a kind that cannot continue another run is a mistake in the request (400). */
function assertModeAccepted(req: TriggerRequest): void {
  if (req.mode !== 'resume' || runKindPolicy(req.kind).resumable) return;
  throw new ValidationError(
    `mode resume does not apply to kind ${req.kind}: it starts from page 1 (mode restart), which loses nothing but time`,
    {
      location: 'body',
      issues: [{ code: 'custom', path: ['mode'], message: `a ${req.kind} run cannot resume another run` }],
    },
  );
}

async function findRunToResume(deps: TriggerDeps, cid: string, kind: RunKind): Promise<RunDoc> {
  const run = await deps.runs.latestResumableForCid(cid, kind);
  if (!run) {
    throw new AppError(
      'NO_RUN_TO_RESUME',
      `CID ${cid} has no halted, failed, cancelled or incomplete ${kind} run to resume; use mode "restart"`,
      {
        details: { cid },
      },
    );
  }
  return run;
}

async function acquireLock(
  deps: TriggerDeps,
  cid: string,
  runId: string,
  now: Date,
  log: Logger,
): Promise<void> {
  const expiresAt = new Date(now.getTime() + deps.config.triggerGraceMs);
  const inserted = await deps.locks.insertQueued(cid, runId, expiresAt, now);
  if (inserted.acquired) return;
  const existing = inserted.existing;
  // The lock vanished between insert and read (its run just ended): one more try.
  if (!existing) {
    const again = await deps.locks.insertQueued(cid, runId, expiresAt, now);
    if (again.acquired) return;
    throw busy(cid, again.existing);
  }
  const staleReason = await whyStale(deps, existing, now);
  if (!staleReason) throw busy(cid, existing);
  const replaced = await deps.locks.replaceStale(cid, existing.run_id, runId, expiresAt, now);
  if (!replaced) throw busy(cid, await deps.locks.get(cid));
  log.warn({ stale_run_id: existing.run_id, reason: staleReason }, 'replaced a stale CID lock');
  await deps.runs.finishOrphaned(
    existing.run_id,
    {
      status: 'failed',
      error: { code: 'LEASE_LOST', message: `superseded by run ${runId}: ${staleReason}` },
    },
    now,
  );
}

/** Null when the lock is live; otherwise why it may be taken over. */
async function whyStale(deps: TriggerDeps, lock: LockDoc, now: Date): Promise<string | null> {
  if (lock.expires_at.getTime() <= now.getTime())
    return `its ${lock.state} lease expired at ${lock.expires_at.toISOString()}`;
  const run = await deps.runs.get(lock.run_id);
  const pastGrace = now.getTime() - lock.created_at.getTime() > deps.config.triggerGraceMs;
  if (!run) return pastGrace ? 'its run was never created (the trigger crashed)' : null;
  if (isTerminalStatus(run.status)) return `its run is ${run.status}`;
  if (lock.state === 'queued') {
    if (run.job_id === null) return pastGrace ? 'its job was never enqueued (the trigger crashed)' : null;
    if (!(await deps.jobs.exists(run.job_id))) return `its job ${run.job_id} no longer exists`;
  }
  return null;
}

function busy(cid: string, lock: LockDoc | null): ConflictError {
  return new ConflictError('JOB_ALREADY_RUNNING', `A migration of CID ${cid} is already queued or running`, {
    cid,
    ...(lock ? { run_id: lock.run_id, state: lock.state } : {}),
  });
}

export interface CancelDeps {
  runs: RunsRepository;
  locks: LocksRepository;
  now: () => Date;
}

/**
 * Cooperative cancel: the worker stops after its current page. A run no worker has claimed yet
 * is cancelled at once (its job then finds it terminal and does nothing).
 */
export async function cancelMigration(deps: CancelDeps, cid: string): Promise<RunDoc> {
  const run = await deps.runs.requestCancel(cid, deps.now());
  if (!run)
    throw new AppError('NOT_FOUND', `CID ${cid} has no migration in progress to cancel`, {
      details: { cid },
    });
  if (run.lease_epoch === 0) {
    const now = deps.now();
    if (
      await deps.runs.finishUnclaimed(
        run._id,
        { status: 'cancelled', haltReason: 'cancelled before a worker started it' },
        now,
      )
    ) {
      await deps.locks.releaseQueued(cid, run._id);
      return (await deps.runs.get(run._id)) ?? run;
    }
  }
  return run;
}
