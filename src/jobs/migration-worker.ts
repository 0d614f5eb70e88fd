/**
 * A worker process's job side: Agenda with the migration job defined, woken by change streams
 * or polling, and a graceful stop that lets running runs finish their page and hand off
 * (issue #6: SIGTERM → finish the page, checkpoint, release the lease, drain).
 */
import { hostname } from 'node:os';

import type { Agenda } from 'agenda';
import type { Db } from 'mongodb';

import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ExecuteRunExit, ExecuteRunOptions } from '../migration/execute-run.js';
import { createAgenda } from './agenda-factory.js';
import { createAgendaJobQueue } from './agenda-job-queue.js';
import { defineMigrationJob, RetryLaterError } from './migration-job.js';
import {
  type ChangeStreamMode,
  chooseNotificationChannel,
  type NotificationChoice,
} from './notification-channel-choice.js';
import { defineWaveJob, type ExecuteWave, WAVE_SCHEDULER_SLOTS } from './wave-job.js';

export interface MigrationWorkerOptions {
  db: Db;
  logger: Logger;
  execute: (runId: string, options: ExecuteRunOptions) => Promise<ExecuteRunExit>;
  /** Carries wave schedulers too (#16), in up to WAVE_SCHEDULER_SLOTS extra job slots. */
  executeWave?: ExecuteWave;
  owner: string;
  config: {
    concurrency: number;
    processEveryMs: number;
    lockLifetimeMs: number;
    leaseMs: number;
    shutdownTimeoutMs: number;
    changeStreams: ChangeStreamMode;
  };
}

export interface MigrationWorker {
  agenda: Agenda;
  notification: NotificationChoice;
  /** Graceful: running runs stop after their page and hand off; waits up to the shutdown timeout. */
  stop(): Promise<{ timedOut: boolean }>;
}

/** A unique, readable worker name: host, pid and a random suffix. */
export function workerName(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

export async function startMigrationWorker(options: MigrationWorkerOptions): Promise<MigrationWorker> {
  const { logger, config } = options;
  const notification = await chooseNotificationChannel(options.db, config.changeStreams, logger);
  const agenda = await createAgenda({
    db: options.db,
    name: options.owner,
    processEveryMs: config.processEveryMs,
    lockLifetimeMs: config.lockLifetimeMs,
    concurrency: config.concurrency,
    extraSlots: options.executeWave ? WAVE_SCHEDULER_SLOTS : 0,
    logger,
    notificationChannel: notification.channel,
  });
  const shutdown = new AbortController();
  const running = new Set<Promise<unknown>>();
  defineMigrationJob(agenda, {
    execute: options.execute,
    logger,
    shutdown: shutdown.signal,
    concurrency: config.concurrency,
    lockLifetimeMs: config.lockLifetimeMs,
    leaseMs: config.leaseMs,
    running,
  });
  if (options.executeWave) {
    defineWaveJob(agenda, {
      execute: options.executeWave,
      jobs: createAgendaJobQueue(agenda, options.db),
      logger,
      shutdown: shutdown.signal,
      lockLifetimeMs: config.lockLifetimeMs,
      leaseMs: config.leaseMs,
      running,
    });
  }
  agenda.on('fail', (e: unknown) => {
    // A retry-later is how a job asks Agenda for another delivery, not a failure.
    if (e instanceof RetryLaterError) return;
    logger.error({ err: toError(e) }, 'migration job failed');
  });
  await agenda.start();
  logger.info(
    { owner: options.owner, concurrency: config.concurrency, notification: notification.kind },
    'worker started',
  );

  let stopping: Promise<{ timedOut: boolean }> | undefined;
  return {
    agenda,
    notification,
    stop() {
      stopping ??= (async () => {
        shutdown.abort();
        // Stop taking jobs and unlock those locked but not started; running handlers go on.
        await agenda.stop(false);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          Promise.allSettled([...running]).then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), config.shutdownTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        logger.info({ timed_out: timedOut }, 'worker stopped');
        return { timedOut };
      })();
      return stopping;
    },
  };
}
