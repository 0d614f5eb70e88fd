/**
 * The composition root: builds the Mongo client, repositories, CRM client, attachment pipeline,
 * job queue and worker from one `Config`, passing explicit deps down. Every resource registers
 * its cleanup on one release stack; `stop()` releases them last-in-first-out.
 */
import type { Agenda } from 'agenda';
import type { Db } from 'mongodb';

import { type AttachmentHandlers, createAttachmentHandlers } from './attachments/attachment-processor.js';
import { type AttachmentObjectRemover, createS3AttachmentStore } from './attachments/s3-attachment-store.js';
import type { Config } from './config.js';
import type { CrmNotesExtractor } from './crm/crm-notes-extractor.js';
import { createHttpCrmNotesExtractor } from './crm/http-crm-notes-extractor.js';
import { createSharedCrmBudget, crmBudgetKey, type SharedCrmBudget } from './crm/shared-crm-budget.js';
import { probeChangeStreams } from './db/change-stream-probe.js';
import { connectMongo } from './db/mongo-client.js';
import { createRepositories, type Repositories } from './db/repositories.js';
import { AppError, toError } from './errors.js';
import { createHttpApp } from './http/create-http-app.js';
import { createRunStatusFeed, type RunStatusFeed } from './http/run-status-feed.js';
import { type HttpServerHandle, startHttpServer } from './http/start-http-server.js';
import { createAgenda } from './jobs/agenda-factory.js';
import { createAgendaJobQueue } from './jobs/agenda-job-queue.js';
import { createAgendaWaveQueue } from './jobs/agenda-wave-queue.js';
import { type MigrationWorker, startMigrationWorker, workerName } from './jobs/migration-worker.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { executeRun, type MigrationObserver } from './migration/execute-run.js';
import type { AttachmentRehoster } from './migration/pipeline-ports.js';
import { createRunConfigStamp } from './migration/run-config-stamp.js';
import {
  createCancelDeps,
  createExecuteRunDeps,
  createTriggerDeps,
  runSettingsOf,
} from './migration/run-deps.js';
import type { RunKindDeps } from './migration/run-step.js';
import { createWaveCommandDeps, createWaveSchedulerDeps } from './migration/waves/wave-deps.js';
import { runWaveScheduler } from './migration/waves/wave-scheduler.js';
import { onceUntilFailure } from './once-until-failure.js';
import { createReleaseStack, type ReleaseStack } from './release-stack.js';
import { readServiceVersion } from './service-version.js';

export interface AppOverrides {
  now?: () => Date;
  /**
   * Test seams: replace the HTTP CRM client or the attachment pipeline (re-hosting, the checks
   * that store nothing — the dry run's and reconcile's — and the rollback's object deletion).
   */
  extractor?: CrmNotesExtractor;
  attachments?: AttachmentRehoster;
  vetAttachments?: RunKindDeps['vetAttachments'];
  attachmentObjects?: AttachmentObjectRemover;
  observer?: MigrationObserver;
}

export interface ApiOptions {
  /** Mount the Agenda dashboard and start Agenda in this process (its stats need a started Agenda). */
  dashboard?: boolean;
}

/** What the commands use of a built service; everything else stays inside the composition root. */
export interface App {
  readonly config: Readonly<Config>;
  readonly db: Db;
  readonly repos: Repositories;
  /** This process's worker name (lock and run owner). */
  readonly owner: string;
  readonly now: () => Date;
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
    const budget = createCrmBudget(config, repos, logger, metrics);
    const extractor =
      overrides.extractor ?? createCrmExtractor(config, logger, (info) => metrics.onCrmRetry(info), budget);
    const configStamp = createRunConfigStamp(config, readServiceVersion());
    const handlers = createAttachments(config, logger, stack);
    const executeDeps = createExecuteRunDeps({
      repos,
      extractor,
      attachments: overrides.attachments ?? handlers.processor,
      vetAttachments: overrides.vetAttachments ?? {
        urls: handlers.vetUrls,
        downloads: handlers.checkDownloads,
      },
      attachmentObjects: overrides.attachmentObjects ?? handlers.objects,
      settings: runSettingsOf(config),
      configStamp,
      logger,
      now,
      owner,
      observer: overrides.observer ?? metrics.migrationObserver,
    });
    const enqueueAgenda = lazyEnqueueAgenda(mongo.db, config, logger, owner, stack);

    return {
      config,
      db: mongo.db,
      repos,
      owner,
      now,
      async startWorker() {
        const worker = await startMigrationWorker({
          db: mongo.db,
          logger,
          owner,
          execute: (runId, options) => executeRun(executeDeps, runId, options),
          executeWave: (job, options) =>
            runWaveScheduler(
              createWaveSchedulerDeps({
                repos,
                trigger: {
                  extractor,
                  jobs: options.jobs,
                  pageSize: config.crm.pageSize,
                  configStamp,
                  logger,
                  now,
                },
                budgetKey: budget?.key ?? null,
                owner,
                config: {
                  leaseMs: config.worker.leaseMs,
                  heartbeatMs: config.worker.heartbeatMs,
                  tickMs: config.worker.waveTickMs,
                },
                observer: metrics.waves,
              }),
              job,
              options,
            ),
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
        const agenda = await enqueueAgenda();
        // Agendash's stats endpoint answers only from a started Agenda; with no job defined here
        // it processes nothing, so starting it is harmless.
        if (options.dashboard !== false) await agenda.start();
        const httpApp = createHttpApp({
          trigger: createTriggerDeps({
            repos,
            extractor,
            jobs: createAgendaJobQueue(agenda, mongo.db),
            pageSize: config.crm.pageSize,
            configStamp,
            logger,
            now,
          }),
          cancel: createCancelDeps({ repos, now }),
          rollbackNotes: repos.contactNotes,
          waves: {
            waves: repos.waves,
            commands: createWaveCommandDeps({
              repos,
              jobs: createAgendaWaveQueue(agenda, mongo.db),
              logger,
              now,
            }),
            pollMs: config.worker.statusPollMs,
          },
          runs: repos.runs,
          failures: repos.failures,
          readPath: { contactNotes: repos.contactNotes, contacts: repos.contacts, users: repos.users },
          statusSource: await createStatusFeed(mongo.db, repos, config, logger, metrics),
          metrics,
          pingDatabase: () => mongo.db.command({ ping: 1 }),
          logger,
          config: { ...config.http, statusPollMs: config.worker.statusPollMs },
          ...(options.dashboard === false ? {} : { agenda }),
          now,
        });
        const server = await startHttpServer(httpApp, { host: config.http.host, port: config.http.port });
        stack.defer('http server', () => server.close());
        logger.info({ url: server.url }, 'api listening');
        return server;
      },
      defer: (label, release) => stack.defer(label, release),
      stop: () => stack.release(),
    };
  } catch (e) {
    await stack
      .release()
      .catch((err: unknown) => logger.warn({ err: toError(err) }, 'cleanup after a failed start failed'));
    throw e;
  }
}

/**
 * An Agenda for enqueueing (not processing), created on first use; a failed start is forgotten,
 * so the next call tries again instead of failing forever.
 */
function lazyEnqueueAgenda(
  db: Db,
  config: Readonly<Config>,
  logger: Logger,
  owner: string,
  stack: ReleaseStack,
): () => Promise<Agenda> {
  return onceUntilFailure(async () => {
    const agenda = await createAgenda({
      db,
      name: `${owner}:api`,
      processEveryMs: config.worker.processEveryMs,
      lockLifetimeMs: config.worker.lockLifetimeMs,
      concurrency: 1,
      logger,
    });
    stack.defer('enqueue agenda', () => agenda.stop(false));
    return agenda;
  });
}

/** SSE status: change streams when they deliver events here (or are forced on), else polling. */
async function createStatusFeed(
  db: Db,
  repos: Repositories,
  config: Readonly<Config>,
  logger: Logger,
  metrics: Metrics,
): Promise<RunStatusFeed> {
  const mode = config.worker.changeStreams;
  const kind =
    mode === 'off'
      ? 'polling'
      : mode === 'on' || (await probeChangeStreams(db)).ok
        ? 'change-streams'
        : 'polling';
  logger.info({ status_feed: kind }, 'status feed chosen');
  return createRunStatusFeed({
    runs: repos.runs,
    kind,
    pollMs: config.worker.statusPollMs,
    logger,
    observer: metrics.statusFeedObserver,
  });
}

/** The shared CRM budget when CRM_RATE_LIMIT_PER_S is set (#16); otherwise each extractor paces itself. */
function createCrmBudget(
  config: Readonly<Config>,
  repos: Repositories,
  logger: Logger,
  metrics: Metrics,
): SharedCrmBudget | null {
  const capPerS = config.crm.rateLimitPerS;
  if (capPerS === undefined || !config.crm.rootUrl) return null;
  const key = crmBudgetKey(config.crm.rootUrl, config.crm.auth);
  logger.info({ budget: key, cap_per_s: capPerS, burst: config.crm.burst }, 'shared crm budget on');
  return createSharedCrmBudget({
    repo: repos.crmBudget,
    key,
    capPerS,
    burst: config.crm.burst,
    logger,
    observer: metrics.crmBudget,
  });
}

function createCrmExtractor(
  config: Readonly<Config>,
  logger: Logger,
  onRetry: Metrics['onCrmRetry'],
  budget: SharedCrmBudget | null,
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
    ...(budget ? { pacer: budget } : {}),
  });
}

/** The real pipeline, its checks that store nothing (dry run, reconcile), and object deletion (rollback). */
function createAttachments(
  config: Readonly<Config>,
  logger: Logger,
  stack: ReleaseStack,
): AttachmentHandlers & { objects: AttachmentObjectRemover } {
  const store = createS3AttachmentStore(config.s3);
  stack.defer('s3 client', () => store.close());
  return { ...createAttachmentHandlers({ config: config.attachments, store, logger }), objects: store };
}
