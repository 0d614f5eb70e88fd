/**
 * The Agenda job `crm-notes-wave` (#16): one job per wave generation, carrying that wave's
 * scheduler (`migration/waves/wave-scheduler.ts`). Like the migration job it decides nothing
 * itself: the wave's lease and generation do, so a job delivered twice does nothing the second time.
 */
import type { Agenda, Job } from 'agenda';
import { z } from 'zod';

import { WAVE_JOB_NAME } from '../domain.js';
import { PermanentJobError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MigrationJobQueue } from '../migration/trigger-migration.js';
import type { WaveJobData } from '../migration/waves/wave-commands.js';
import type { WaveSchedulerExit, WaveSchedulerOptions } from '../migration/waves/wave-scheduler.js';
import { jobSaved, RetryLaterError } from './migration-job.js';

/** Wave schedulers one worker carries at once, besides its WORKER_CONCURRENCY runs: a scheduler only ticks. */
export const WAVE_SCHEDULER_SLOTS = 4;

export type ExecuteWave = (
  job: { waveId: string; generation: number },
  options: WaveSchedulerOptions & { jobs: MigrationJobQueue },
) => Promise<WaveSchedulerExit>;

const WaveJobDataSchema = z.object({ wave_id: z.string().min(1), generation: z.number().int().min(1) });

export interface WaveJobDeps {
  execute: ExecuteWave;
  /** Where the scheduler enqueues its members' migration jobs (this worker's Agenda). */
  jobs: MigrationJobQueue;
  logger: Logger;
  shutdown: AbortSignal;
  lockLifetimeMs: number;
  /** Settled on Agenda's `complete`, so shutdown waits for the job's final save (see migration-job.ts). */
  running: Set<Promise<unknown>>;
  leaseMs: number;
}

export function defineWaveJob(agenda: Agenda, deps: WaveJobDeps): void {
  agenda.define<WaveJobData>(
    WAVE_JOB_NAME,
    async (job: Job<WaveJobData>) => {
      const saved = jobSaved(agenda, String(job.attrs._id));
      deps.running.add(saved);
      void saved.then(() => deps.running.delete(saved));
      await handle(job, deps);
    },
    {
      concurrency: WAVE_SCHEDULER_SLOTS,
      lockLimit: WAVE_SCHEDULER_SLOTS,
      lockLifetime: deps.lockLifetimeMs,
      backoff: (ctx) => (ctx.error instanceof RetryLaterError ? ctx.error.retryInMs : null),
    },
  );
}

async function handle(job: Job<WaveJobData>, deps: WaveJobDeps): Promise<void> {
  const parsed = WaveJobDataSchema.safeParse(job.attrs.data);
  const jobId = job.attrs._id === undefined ? null : String(job.attrs._id);
  if (!parsed.success) {
    deps.logger.error(
      { job_id: jobId, issues: parsed.error.issues },
      'wave job has invalid data; not retried',
    );
    throw new PermanentJobError(`job ${jobId} has invalid data: ${parsed.error.message}`);
  }
  const { wave_id: waveId, generation } = parsed.data;
  const log = deps.logger.child({ job_id: jobId, wave_id: waveId, generation });
  const exit = await deps.execute(
    { waveId, generation },
    { shutdown: deps.shutdown, jobs: deps.jobs, onHeartbeat: () => job.touch(0) },
  );
  switch (exit.kind) {
    case 'finished':
    case 'nothing-to-do':
      log.info({ reason: exit.reason }, 'wave job done');
      return;
    case 'retry-later':
      throw new RetryLaterError(exit.reason, exit.retryInMs);
    case 'handed-off':
      throw new RetryLaterError('handed off at shutdown', 1_000);
    case 'lease-lost':
      // Another scheduler has the wave; come back in case it dies and this generation is still current.
      throw new RetryLaterError('wave lease lost to another scheduler', deps.leaseMs);
    default:
      return assertNever(exit);
  }
}

function assertNever(exit: never): never {
  throw new Error(`unhandled wave scheduler exit ${JSON.stringify(exit)}`);
}
