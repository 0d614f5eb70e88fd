/**
 * Builds the run machinery (trigger + executeRun) on a real test database with a CRM in
 * memory and no attachments, so run-lifecycle tests drive runs directly, without Agenda.
 */
import { randomUUID } from 'node:crypto';

import type { CrmNotesExtractor } from '../../src/crm/crm-notes-extractor.js';
import type { Repositories } from '../../src/db/repositories.js';
import { MIGRATION_FLAG } from '../../src/domain.js';
import { createSilentLogger, type Logger } from '../../src/logger.js';
import { executeRun, type ExecuteRunDeps, type ExecuteRunOptions } from '../../src/migration/execute-run.js';
import type { NormalizeHtml } from '../../src/migration/pipeline-ports.js';
import {
  type MigrationJobData,
  triggerMigration,
  type TriggerRequest,
} from '../../src/migration/trigger-migration.js';
import { normalizeNoteHtml } from '../../src/normalize/normalize-note-html.js';
import { createContactResolver } from '../../src/resolve/contact-resolver.js';
import { createOwnerResolver } from '../../src/resolve/owner-resolver.js';

export interface HarnessOptions {
  repos: Repositories;
  extractor: CrmNotesExtractor;
  /** Defaults to the real normalizer. */
  normalizeHtml?: NormalizeHtml;
  owner?: string;
  logger?: Logger;
  leaseMs?: number;
  heartbeatMs?: number;
  pageSize?: number;
  maxFailureRate?: number;
  now?: () => Date;
}

export function createRunHarness(options: HarnessOptions) {
  const enqueued: (MigrationJobData & { jobId: string })[] = [];
  const logger = options.logger ?? createSilentLogger();
  const now = options.now ?? (() => new Date());
  const deps = (owner: string): ExecuteRunDeps => ({
    runs: options.repos.runs,
    locks: options.repos.locks,
    contactNotes: options.repos.contactNotes,
    failures: options.repos.failures,
    extractor: options.extractor,
    pipeline: {
      contacts: createContactResolver({ contacts: options.repos.contacts }),
      owners: createOwnerResolver({ users: options.repos.users }),
      normalizeHtml: options.normalizeHtml ?? normalizeNoteHtml,
      attachments: { process: () => Promise.resolve({ attachments: [], problems: [] }) },
      attachmentNoteConcurrency: 4,
    },
    config: {
      noteTypeAllowlist: [1, 6],
      maxFailureRate: options.maxFailureRate ?? 0.01,
      matchPctThreshold: 0.99,
      leaseMs: options.leaseMs ?? 30_000,
      heartbeatMs: options.heartbeatMs ?? 10_000,
    },
    logger,
    now,
    owner,
  });
  return {
    enqueued,
    async enableFlag(cid: string) {
      await options.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, now());
    },
    trigger(req: Partial<TriggerRequest> & { cid: string }) {
      return triggerMigration(
        {
          flags: options.repos.featureFlags,
          runs: options.repos.runs,
          locks: options.repos.locks,
          extractor: options.extractor,
          jobs: {
            enqueue: (data) => {
              const jobId = randomUUID();
              enqueued.push({ ...data, jobId });
              return Promise.resolve(jobId);
            },
            exists: (jobId) => Promise.resolve(enqueued.some((j) => j.jobId === jobId)),
          },
          logger,
          now,
          newRunId: randomUUID,
          config: { pageSize: options.pageSize ?? 500, triggerGraceMs: 30_000, queuedLockTtlMs: 3_600_000 },
        },
        { companySsoId: `co-${req.cid}`, mode: 'restart', ...req },
      );
    },
    execute(runId: string, owner = options.owner ?? 'worker-a', opts: ExecuteRunOptions = {}) {
      return executeRun(deps(owner), runId, opts);
    },
    deps,
  };
}
