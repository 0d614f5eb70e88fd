/**
 * The composition root: builds the Mongo client, repositories, CRM client, attachment pipeline,
 * job queue and worker from one `Config`, passing explicit deps down. Every resource registers
 * its cleanup on one release stack; `stop()` releases them last-in-first-out.
 */
import { randomUUID } from 'node:crypto';

import type { Agenda } from 'agenda';

import { createAttachmentProcessor } from './attachments/attachment-processor.js';
import { createS3AttachmentStore } from './attachments/s3-attachment-store.js';
import type { Config } from './config.js';
import type { CrmNotesExtractor } from './crm/crm-notes-extractor.js';
import { createHttpCrmNotesExtractor } from './crm/http-crm-notes-extractor.js';
import { probeChangeStreams } from './db/change-stream-probe.js';
import { connectMongo, type MongoConnection } from './db/mongo-client.js';
import { createRepositories, type Repositories } from './db/repositories.js';
import { AppError } from './errors.js';
import { createHttpApp } from './http/create-http-app.js';
import { createRunStatusFeed } from './http/run-status-feed.js';
import { type HttpServerHandle, startHttpServer } from './http/start-http-server.js';
import { createAgenda } from './jobs/agenda-factory.js';
import { createAgendaJobQueue } from './jobs/agenda-job-queue.js';
import { type MigrationWorker, startMigrationWorker, workerName } from './jobs/migration-worker.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import {
  executeRun,
  type ExecuteRunExit,
  type ExecuteRunOptions,
  type MigrationObserver,
} from './migration/execute-run.js';
import type { AttachmentRehoster } from './migration/pipeline-ports.js';
import type { CancelDeps, MigrationJobQueue, TriggerDeps } from './migration/trigger-migration.js';
import { normalizeNoteHtml } from './normalize/normalize-note-html.js';
import { createReleaseStack, type ReleaseStack } from './release-stack.js';
import { createContactResolver } from './resolve/contact-resolver.js';
import { createOwnerResolver } from './resolve/owner-resolver.js';

/** How long a trigger's lock may exist without its run or job before it counts as abandoned. */
const TRIGGER_GRACE_MS = 30_000;
/** How long a queued run keeps its CID while its job waits for a worker. */
const QUEUED_LOCK_TTL_MS = 24 * 3_600_000;

export interface AppOverrides {
  now?: () => Date;
  /** Test seams: replace the HTTP CRM client or the attachment pipeline. */
  extractor?: CrmNotesExtractor;
  attachments?: AttachmentRehoster;
  observer?: MigrationObserver;
}

export interface ApiOptions {
  /** Mount the Agenda dashboard and start Agenda in this process (its stats need a started Agenda). */
  dashboard?: boolean;
}

export interface App {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly mongo: MongoConnection;
  readonly repos: Repositories;
  readonly extractor: CrmNotesExtractor;
  readonly owner: string;
  readonly now: () => Date;
  readonly metrics: Metrics;
  executeRun(runId: string, options: ExecuteRunOptions): Promise<ExecuteRunExit>;
  /** An Agenda for enqueueing (not processing); created on first use. */
  enqueueAgenda(): Promise<Agenda>;
  triggerDeps(): Promise<TriggerDeps>;
  cancelDeps(): CancelDeps;
  /** Starts processing migration jobs in this process. */
  startWorker(): Promise<MigrationWorker>;
  /** Starts the HTTP API on `config.http.host:port`. */
  startApi(options?: ApiOptions): Promise<HttpServerHandle>;
  /** Registers a cleanup to run at `stop()` (before what was created earlier). */
  defer(label: string, release: () => Promise<void> | void): void;
  stop(): Promise<void>;
}

export async function createApp(
  config: Readonly<Config>,
  logger: Logger,
  overrides: AppOverrides = {},
): Promise<App> {
  if (!config.mongo.uri) {
    throw new AppError(
      'CONFIG_INVALID',
      'MONGODB_URI: expected a MongoDB connection string, got nothing (unset)',
    );
  }
  const now = overrides.now ?? (() => new Date());
  const stack: ReleaseStack = createReleaseStack(
    (label, err) => logger.error({ err, resource: label }, 'release failed'),
    (label, ms) => logger.debug({ resource: label, ms }, 'released'),
  );
  const owner = workerName();
  try {
    const mongo = await connectMongo({ uri: config.mongo.uri, dbName: config.mongo.dbName });
    stack.defer('mongo client', () => mongo.close());
    const repos = createRepositories(mongo.db);
    const metrics = createMetrics();
    const extractor =
      overrides.extractor ?? createCrmExtractor(config, logger, (info) => metrics.onCrmRetry(info));
    const attachments = overrides.attachments ?? createAttachments(config, logger, stack);

    const executeDeps = {
      runs: repos.runs,
      locks: repos.locks,
      contactNotes: repos.contactNotes,
      failures: repos.failures,
      extractor,
      pipeline: {
        contacts: createContactResolver({ contacts: repos.contacts, cache: config.migration.contactCache }),
        owners: createOwnerResolver({ users: repos.users }),
        normalizeHtml: normalizeNoteHtml,
        attachments,
        attachmentNoteConcurrency: config.attachments.concurrency,
      },
      config: {
        noteTypeAllowlist: config.migration.noteTypeAllowlist,
        maxFailureRate: config.migration.maxFailureRate,
        matchPctThreshold: config.migration.matchPctThreshold,
        leaseMs: config.worker.leaseMs,
        heartbeatMs: config.worker.heartbeatMs,
      },
      logger,
      now,
      owner,
      observer: overrides.observer ?? metrics.migrationObserver,
    };

    let agendaForEnqueue: Promise<Agenda> | undefined;
    let jobQueue: MigrationJobQueue | undefined;
    const app: App = {
      config,
      logger,
      mongo,
      repos,
      extractor,
      owner,
      now,
      metrics,
      executeRun: (runId, options) => executeRun(executeDeps, runId, options),
      enqueueAgenda() {
        agendaForEnqueue ??= createAgenda({
          db: mongo.db,
          name: `${owner}:api`,
          processEveryMs: config.worker.processEveryMs,
          lockLifetimeMs: config.worker.lockLifetimeMs,
          concurrency: 1,
          logger,
        }).then((agenda) => {
          stack.defer('enqueue agenda', () => agenda.stop(false));
          return agenda;
        });
        return agendaForEnqueue;
      },
      async triggerDeps() {
        jobQueue ??= createAgendaJobQueue(await app.enqueueAgenda(), mongo.db);
        return {
          flags: repos.featureFlags,
          runs: repos.runs,
          locks: repos.locks,
          extractor,
          jobs: jobQueue,
          logger,
          now,
          newRunId: randomUUID,
          config: {
            pageSize: config.crm.pageSize,
            triggerGraceMs: TRIGGER_GRACE_MS,
            queuedLockTtlMs: QUEUED_LOCK_TTL_MS,
          },
        };
      },
      cancelDeps: () => ({ runs: repos.runs, locks: repos.locks, now }),
      async startWorker() {
        const worker = await startMigrationWorker({
          db: mongo.db,
          logger,
          owner,
          execute: (runId, options) => app.executeRun(runId, options),
          config: {
            concurrency: config.worker.concurrency,
            processEveryMs: config.worker.processEveryMs,
            lockLifetimeMs: config.worker.lockLifetimeMs,
            leaseMs: config.worker.leaseMs,
            shutdownTimeoutMs: config.worker.shutdownTimeoutMs,
            changeStreams: config.worker.changeStreams,
          },
        });
        stack.defer('migration worker', async () => {
          await worker.stop();
        });
        return worker;
      },
      async startApi(options = {}) {
        const trigger = await app.triggerDeps();
        const agenda = await app.enqueueAgenda();
        // Agendash's stats endpoint answers only from a started Agenda; with no job defined here
        // it processes nothing, so starting it is harmless.
        if (options.dashboard !== false) await agenda.start();
        const feedKind =
          config.worker.changeStreams === 'off'
            ? 'polling'
            : config.worker.changeStreams === 'on' || (await probeChangeStreams(mongo.db)).ok
              ? 'change-streams'
              : 'polling';
        const statusSource = createRunStatusFeed({
          runs: repos.runs,
          kind: feedKind,
          pollMs: config.worker.statusPollMs,
          logger,
          observer: metrics.statusFeedObserver,
        });
        const httpApp = createHttpApp({
          trigger: {
            flags: trigger.flags,
            runs: trigger.runs,
            locks: trigger.locks,
            extractor,
            jobs: trigger.jobs,
            newRunId: trigger.newRunId,
            config: trigger.config,
          },
          cancel: { runs: repos.runs, locks: repos.locks },
          runs: repos.runs,
          failures: repos.failures,
          readPath: { contactNotes: repos.contactNotes, contacts: repos.contacts, users: repos.users },
          statusSource,
          metrics,
          pingDatabase: () => mongo.db.command({ ping: 1 }),
          logger,
          config: config.http,
          ...(options.dashboard === false ? {} : { agenda }),
          now,
        });
        const server = await startHttpServer(httpApp, { host: config.http.host, port: config.http.port });
        stack.defer('http server', () => server.close());
        logger.info({ url: server.url, status_feed: feedKind }, 'api listening');
        return server;
      },
      defer: (label, release) => stack.defer(label, release),
      stop: () => stack.release(),
    };
    return app;
  } catch (e) {
    await stack.release().catch(() => undefined);
    throw e;
  }
}

function createCrmExtractor(
  config: Readonly<Config>,
  logger: Logger,
  onRetry: Metrics['onCrmRetry'],
): CrmNotesExtractor {
  if (!config.crm.rootUrl) {
    throw new AppError(
      'CONFIG_INVALID',
      'CRM_API_ROOT_URL: expected the legacy CRM base URL, got nothing (unset)',
    );
  }
  return createHttpCrmNotesExtractor({
    rootUrl: config.crm.rootUrl,
    auth: config.crm.auth,
    timeoutMs: config.crm.timeoutMs,
    maxRetryAfterMs: config.crm.maxRetryAfterMs,
    logger,
    onRetry,
  });
}

function createAttachments(
  config: Readonly<Config>,
  logger: Logger,
  stack: ReleaseStack,
): AttachmentRehoster {
  const store = createS3AttachmentStore(config.s3);
  stack.defer('s3 client', () => store.close());
  return createAttachmentProcessor({ config: config.attachments, store, logger });
}
