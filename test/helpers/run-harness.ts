/**
 * Builds the run machinery (trigger + executeRun) on a real test database with a CRM in
 * memory and no attachments, so run-lifecycle tests drive runs directly, without Agenda. Wired
 * by the same factories as the service (`migration/run-deps.ts`), on default settings.
 */
import { randomUUID } from 'node:crypto';

import type { AttachmentObjectRemover } from '../../src/attachments/s3-attachment-store.js';
import { parseConfig } from '../../src/config.js';
import type { CrmNotesExtractor } from '../../src/crm/crm-notes-extractor.js';
import type { Repositories } from '../../src/db/repositories.js';
import { MIGRATION_FLAG } from '../../src/domain.js';
import { createSilentLogger, type Logger } from '../../src/logger.js';
import { executeRun, type ExecuteRunOptions, type RunLoopHooks } from '../../src/migration/execute-run.js';
import type { AttachmentRehoster, NormalizeHtml } from '../../src/migration/pipeline-ports.js';
import {
  createExecuteRunDeps,
  createTriggerDeps,
  type RunSettings,
  runSettingsOf,
} from '../../src/migration/run-deps.js';
import {
  type MigrationJobData,
  triggerMigration,
  type TriggerRequest,
} from '../../src/migration/trigger-migration.js';
import { makeConfigStamp } from '../fixtures/builders.js';

export interface HarnessOptions {
  repos: Repositories;
  extractor: CrmNotesExtractor;
  /** Defaults to the real normalizer. */
  normalizeHtml?: NormalizeHtml;
  /** Defaults to none: notes keep no attachments. */
  attachments?: AttachmentRehoster;
  /**
   * The checks that store nothing (the dry run's, reconcile's); default: `attachments` for both
   * (a test rehoster that uploads nothing), so reconcile computes what the migration wrote.
   */
  vetAttachments?: { urls: AttachmentRehoster; downloads: AttachmentRehoster };
  /** Defaults to one that records the keys it was asked to delete (`deletedObjectKeys`). */
  attachmentObjects?: AttachmentObjectRemover;
  hooks?: RunLoopHooks;
  owner?: string;
  logger?: Logger;
  leaseMs?: number;
  heartbeatMs?: number;
  pageSize?: number;
  maxFailureRate?: number;
  /** Any other setting (defaults: the service's own). */
  settings?: Partial<RunSettings>;
  now?: () => Date;
}

export const NO_ATTACHMENTS: AttachmentRehoster = {
  process: () => Promise.resolve({ attachments: [], problems: [] }),
};

export function createRunHarness(options: HarnessOptions) {
  const enqueued: (MigrationJobData & { jobId: string })[] = [];
  const logger = options.logger ?? createSilentLogger();
  const now = options.now ?? (() => new Date());
  const settings: RunSettings = {
    ...runSettingsOf(parseConfig({})),
    leaseMs: options.leaseMs ?? 30_000,
    heartbeatMs: options.heartbeatMs ?? 10_000,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(options.maxFailureRate === undefined ? {} : { maxFailureRate: options.maxFailureRate }),
    ...options.settings,
  };
  const configStamp = makeConfigStamp({ page_size: settings.pageSize });
  const deletedObjectKeys: string[] = [];
  const attachments = options.attachments ?? NO_ATTACHMENTS;
  const deps = (owner: string) =>
    createExecuteRunDeps({
      repos: options.repos,
      extractor: options.extractor,
      attachments,
      vetAttachments: options.vetAttachments ?? { urls: attachments, downloads: attachments },
      attachmentObjects: options.attachmentObjects ?? {
        deleteObjects: (keys) => {
          deletedObjectKeys.push(...keys);
          return Promise.resolve();
        },
      },
      hooks: options.hooks,
      settings,
      configStamp,
      logger,
      now,
      owner,
      ...(options.normalizeHtml ? { normalizeHtml: options.normalizeHtml } : {}),
    });
  const triggerDeps = createTriggerDeps({
    repos: options.repos,
    extractor: options.extractor,
    jobs: {
      enqueue: (data) => {
        const jobId = randomUUID();
        enqueued.push({ ...data, jobId });
        return Promise.resolve(jobId);
      },
      exists: (jobId) => Promise.resolve(enqueued.some((j) => j.jobId === jobId)),
    },
    pageSize: settings.pageSize,
    configStamp,
    logger,
    now,
  });
  return {
    enqueued,
    settings,
    deletedObjectKeys,
    async enableFlag(cid: string) {
      await options.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, now());
    },
    trigger(req: Partial<TriggerRequest> & { cid: string }) {
      return triggerMigration(triggerDeps, {
        companySsoId: `co-${req.cid}`,
        kind: 'migrate',
        mode: 'restart',
        triggeredBy: 'test',
        ...req,
      });
    },
    execute(runId: string, owner = options.owner ?? 'worker-a', opts: ExecuteRunOptions = {}) {
      return executeRun(deps(owner), runId, opts);
    },
    deps,
  };
}
