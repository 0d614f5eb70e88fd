/**
 * Assembles what `executeRun`, `triggerMigration` and `cancelMigration` need, once, for the
 * composition root, the test harnesses, the benchmark and the scripts alike — so a timeout or a
 * resolver is wired the same way everywhere. Settings come from `Config` (`runSettingsOf`).
 */
import { randomUUID } from 'node:crypto';

import type { AttachmentObjectRemover } from '../attachments/s3-attachment-store.js';
import type { Config } from '../config.js';
import type { CrmNotesExtractor } from '../crm/crm-notes-extractor.js';
import type { RunConfigStampDoc } from '../db/documents.js';
import type { Repositories } from '../db/repositories.js';
import type { Logger } from '../logger.js';
import { normalizeNoteHtml } from '../normalize/normalize-note-html.js';
import { createContactResolver } from '../resolve/contact-resolver.js';
import { createOwnerResolver } from '../resolve/owner-resolver.js';
import type { ExecuteRunDeps, MigrationObserver, RunLoopHooks } from './execute-run.js';
import type { AttachmentRehoster, NormalizeHtml } from './pipeline-ports.js';
import type { RunKindDeps } from './run-step.js';
import {
  type CancelDeps,
  type MigrationJobQueue,
  QUEUED_LOCK_TTL_MS,
  TRIGGER_GRACE_MS,
  type TriggerDeps,
} from './trigger-migration.js';

/** The settings a run depends on, in the units of `Config`. */
export interface RunSettings {
  pageSize: number;
  noteTypeAllowlist: readonly number[];
  maxFailureRate: number;
  maxWarningRate: number;
  matchPctThreshold: number;
  leaseMs: number;
  heartbeatMs: number;
  /** CRM pages fetched ahead while a page is written (`PAGE_PREFETCH`). */
  pagePrefetch: number;
  attachmentNoteConcurrency: number;
  /** Contact mappings remembered between pages; `max: 0` turns it off. */
  contactCache: { max: number; ttlMs: number };
}

export function runSettingsOf(config: Readonly<Config>): RunSettings {
  return {
    pageSize: config.crm.pageSize,
    noteTypeAllowlist: config.migration.noteTypeAllowlist,
    maxFailureRate: config.migration.maxFailureRate,
    maxWarningRate: config.migration.maxWarningRate,
    matchPctThreshold: config.migration.matchPctThreshold,
    leaseMs: config.worker.leaseMs,
    heartbeatMs: config.worker.heartbeatMs,
    pagePrefetch: config.crm.pagePrefetch,
    attachmentNoteConcurrency: config.attachments.concurrency,
    contactCache: config.migration.contactCache,
  };
}

export interface ExecuteRunDepsInput {
  repos: Pick<
    Repositories,
    'runs' | 'locks' | 'contactNotes' | 'failures' | 'contacts' | 'users' | 'runScratch'
  >;
  extractor: CrmNotesExtractor;
  attachments: AttachmentRehoster;
  /** The attachment checks that store nothing: the dry run's and reconcile's (`RunKindDeps.vetAttachments`). */
  vetAttachments: RunKindDeps['vetAttachments'];
  /** Deletes S3 objects (rollback). */
  attachmentObjects: AttachmentObjectRemover;
  settings: RunSettings;
  configStamp: RunConfigStampDoc;
  logger: Logger;
  now: () => Date;
  owner: string;
  /** Defaults to the real normalizer. */
  normalizeHtml?: NormalizeHtml;
  observer?: MigrationObserver | undefined;
  hooks?: RunLoopHooks | undefined;
}

export function createExecuteRunDeps(input: ExecuteRunDepsInput): ExecuteRunDeps {
  const { repos, settings } = input;
  return {
    runs: repos.runs,
    locks: repos.locks,
    failures: repos.failures,
    kinds: {
      contactNotes: repos.contactNotes,
      failures: repos.failures,
      runs: repos.runs,
      scratch: repos.runScratch,
      extractor: input.extractor,
      contacts: createContactResolver({ contacts: repos.contacts, cache: settings.contactCache }),
      owners: createOwnerResolver({ users: repos.users }),
      normalizeHtml: input.normalizeHtml ?? normalizeNoteHtml,
      attachments: input.attachments,
      vetAttachments: input.vetAttachments,
      attachmentObjects: input.attachmentObjects,
      attachmentNoteConcurrency: settings.attachmentNoteConcurrency,
      config: {
        noteTypeAllowlist: settings.noteTypeAllowlist,
        maxFailureRate: settings.maxFailureRate,
        maxWarningRate: settings.maxWarningRate,
        matchPctThreshold: settings.matchPctThreshold,
      },
      logger: input.logger,
      now: input.now,
    },
    config: {
      leaseMs: settings.leaseMs,
      heartbeatMs: settings.heartbeatMs,
      pagePrefetch: settings.pagePrefetch,
    },
    configStamp: input.configStamp,
    logger: input.logger,
    now: input.now,
    owner: input.owner,
    observer: input.observer,
    hooks: input.hooks,
  };
}

export interface TriggerDepsInput {
  repos: Pick<Repositories, 'featureFlags' | 'runs' | 'locks'>;
  extractor: Pick<CrmNotesExtractor, 'probeOrganization'>;
  jobs: MigrationJobQueue;
  pageSize: number;
  configStamp: RunConfigStampDoc;
  logger: Logger;
  now: () => Date;
  newRunId?: () => string;
  /** Tests of the stale-lock rules shorten these; everything else uses the named constants. */
  triggerGraceMs?: number;
  queuedLockTtlMs?: number;
}

export function createTriggerDeps(input: TriggerDepsInput): TriggerDeps {
  return {
    flags: input.repos.featureFlags,
    runs: input.repos.runs,
    locks: input.repos.locks,
    extractor: input.extractor,
    jobs: input.jobs,
    logger: input.logger,
    now: input.now,
    newRunId: input.newRunId ?? randomUUID,
    configStamp: input.configStamp,
    config: {
      pageSize: input.pageSize,
      triggerGraceMs: input.triggerGraceMs ?? TRIGGER_GRACE_MS,
      queuedLockTtlMs: input.queuedLockTtlMs ?? QUEUED_LOCK_TTL_MS,
    },
  };
}

export function createCancelDeps(input: {
  repos: Pick<Repositories, 'runs' | 'locks'>;
  now: () => Date;
}): CancelDeps {
  return { runs: input.repos.runs, locks: input.repos.locks, now: input.now };
}
