/**
 * The Agenda job `crm-notes-migration`: one run per job, carried by `executeRun`. The job never
 * decides anything about the run itself — the CID lease and the run document do — so a job
 * delivered twice (a crash, a dashboard Requeue or Retry) is harmless: the extra delivery finds
 * the lease busy or the run finished and does nothing.
 */
import type { Agenda, Job } from 'agenda';
import { z } from 'zod';

import { JOB_NAME } from '../domain.js';
import { PermanentJobError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ExecuteRunExit, ExecuteRunOptions } from '../migration/execute-run.js';
import type { MigrationJobData } from '../migration/trigger-migration.js';

/** Thrown to make Agenda run the job again after `retryInMs` (see the backoff below). */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryInMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

const JobDataSchema = z.object({
  run_id: z.string().min(1),
  cid: z.string().min(1),
  company_sso_id: z.string().min(1),
});

export interface MigrationJobDeps {
  execute: (runId: string, options: ExecuteRunOptions) => Promise<ExecuteRunExit>;
  logger: Logger;
  /** Aborted on graceful shutdown. */
  shutdown: AbortSignal;
  concurrency: number;
  lockLifetimeMs: number;
  leaseMs: number;
  /**
   * One promise per running job, settled on Agenda's `complete` — after the job's final state
   * save, so shutdown waits until a hand-off's `nextRunAt` and unlock are in the database.
   */
  running: Set<Promise<unknown>>;
}

export function defineMigrationJob(agenda: Agenda, deps: MigrationJobDeps): void {
  agenda.define<MigrationJobData>(
    JOB_NAME,
    async (job: Job<MigrationJobData>) => {
      const saved = jobSaved(agenda, String(job.attrs._id));
      deps.running.add(saved);
      void saved.then(() => deps.running.delete(saved));
      await handle(job, deps);
    },
    {
      concurrency: deps.concurrency,
      // Lock no more jobs than can run: a locked-but-waiting job is invisible to other workers.
      lockLimit: deps.concurrency,
      lockLifetime: deps.lockLifetimeMs,
      backoff: (ctx) => (ctx.error instanceof RetryLaterError ? ctx.error.retryInMs : null),
    },
  );
}

/** Resolves when Agenda emits `complete` for this job: its final state save has been attempted. */
export function jobSaved(agenda: Agenda, jobId: string): Promise<void> {
  return new Promise((resolve) => {
    const onComplete = (job: Job) => {
      if (String(job.attrs._id) !== jobId) return;
      agenda.off('complete', onComplete);
      resolve();
    };
    agenda.on('complete', onComplete);
  });
}

async function handle(job: Job<MigrationJobData>, deps: MigrationJobDeps): Promise<void> {
  const parsed = JobDataSchema.safeParse(job.attrs.data);
  const jobId = job.attrs._id === undefined ? null : String(job.attrs._id);
  if (!parsed.success) {
    deps.logger.error(
      { job_id: jobId, issues: parsed.error.issues },
      'migration job has invalid data; not retried',
    );
    throw new PermanentJobError(`job ${jobId} has invalid data: ${parsed.error.message}`);
  }
  const data = parsed.data;
  const log = deps.logger.child({ job_id: jobId, run_id: data.run_id, cid: data.cid });
  const exit = await deps.execute(data.run_id, {
    shutdown: deps.shutdown,
    // Keeps Agenda's lock fresh on the lease heartbeat; touch() without a value would erase progress.
    onHeartbeat: (progressPct) => job.touch(progressPct),
  });
  switch (exit.kind) {
    case 'finished':
      log.info({ status: exit.status }, 'migration job done');
      return;
    case 'nothing-to-do':
      log.info({ reason: exit.reason }, 'migration job had nothing to do');
      return;
    case 'retry-later':
      log.info({ reason: exit.reason, retry_in_ms: exit.retryInMs }, 'migration job will retry');
      throw new RetryLaterError(exit.reason, exit.retryInMs);
    case 'handed-off':
      throw new RetryLaterError('handed off at shutdown', 1_000);
    case 'lease-lost':
      // Keep the job alive as a watchdog while the new owner works; it ends once the run is terminal.
      throw new RetryLaterError('lease lost to another worker', deps.leaseMs);
    default:
      return assertNever(exit);
  }
}

/** A new exit kind of `executeRun` that this switch does not handle fails to compile here. */
function assertNever(exit: never): never {
  throw new Error(`unhandled run exit ${JSON.stringify(exit)}`);
}
