/**
 * Asking for the rollback of run R (DESIGN.md §11.6): R must exist, be finished and of a kind a
 * rollback can undo, and not be rolled back already (checked again under the CID lock, so N
 * concurrent calls start one run). `dryRun` answers the preview counts instead, writing nothing.
 * The rollback itself is an ordinary run of kind `rollback` through `triggerMigration`.
 */
import type { ContactNotesRepository } from '../db/contact-notes-repository.js';
import type { RunDoc } from '../db/documents.js';
import { isTerminalStatus, runKindOf } from '../domain.js';
import { AppError, ConflictError } from '../errors.js';
import { previewRollback, type RollbackPreview } from './rollback-preview.js';
import { runKindPolicy } from './run-kinds.js';
import { type TriggerDeps, triggerMigration, type TriggerResult } from './trigger-migration.js';

export interface RollbackDeps {
  trigger: TriggerDeps;
  contactNotes: Pick<ContactNotesRepository, 'streamRunNotes' | 'countWithoutProvenance'>;
}

export interface RollbackRequest {
  runId: string;
  dryRun: boolean;
  /** Who asks (the audit stamp of the rollback run). */
  triggeredBy: string;
}

export type RollbackAnswer =
  | { kind: 'preview'; target: RunDoc; preview: RollbackPreview }
  | { kind: 'started'; target: RunDoc; started: TriggerResult };

export async function startRollback(deps: RollbackDeps, req: RollbackRequest): Promise<RollbackAnswer> {
  const target = await deps.trigger.runs.get(req.runId);
  if (!target) {
    throw new AppError('NOT_FOUND', `No run ${req.runId}`, { details: { run_id: req.runId } });
  }
  assertRollbackable(target);
  if (req.dryRun) return { kind: 'preview', target, preview: await previewRollback(deps, target) };
  assertNotRolledBack(target);
  const started = await triggerMigration(deps.trigger, {
    cid: target.cid,
    companySsoId: target.company_sso_id,
    kind: 'rollback',
    // A rollback is idempotent page by page: a new one after a failed one simply starts over.
    mode: 'restart',
    triggeredBy: req.triggeredBy,
    targetRunId: target._id,
    recheckUnderLock: async () => {
      const latest = await deps.trigger.runs.get(target._id);
      if (latest) assertNotRolledBack(latest);
    },
  });
  return { kind: 'started', target, started };
}

function assertRollbackable(run: RunDoc): void {
  const kind = runKindOf(run);
  let reason: string | null = null;
  if (!runKindPolicy(kind).canBeRolledBack)
    reason = `it is a ${kind} run; only migrate and repair runs write notes to undo`;
  else if (!isTerminalStatus(run.status))
    reason = `it is ${run.status}; cancel it (POST /private/notes/migration/cancel) and roll back once it has stopped`;
  if (reason !== null) {
    throw new ConflictError('ROLLBACK_NOT_ALLOWED', `Run ${run._id} cannot be rolled back: ${reason}`, {
      run_id: run._id,
      kind,
      status: run.status,
      reason,
    });
  }
}

function assertNotRolledBack(run: RunDoc): void {
  if (run.rolled_back_by === undefined) return;
  throw new ConflictError(
    'ALREADY_ROLLED_BACK',
    `Run ${run._id} was already rolled back by run ${run.rolled_back_by}; nothing to do`,
    { run_id: run._id, rolled_back_by: run.rolled_back_by },
  );
}
