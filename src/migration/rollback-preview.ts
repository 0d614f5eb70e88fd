/**
 * The preview of a rollback (`dry_run: true`, DESIGN.md §11.6): the target run's notes read once
 * in `_id` order through a cursor (constant memory at any size), each judged by the same
 * `rollbackDecisionOf` the rollback run uses. Computed by the route, synchronously: it writes
 * nothing, so it needs no run, lock or worker, and the answer is the counts themselves.
 */
import type { ContactNotesRepository } from '../db/contact-notes-repository.js';
import type { RunDoc } from '../db/documents.js';
import { rollbackDecisionOf } from './rollback-plan.js';

export interface RollbackPreview {
  /** Untouched notes of the run: what the rollback would delete. */
  would_delete: number;
  /** Notes of the run edited in CDP (or without a fingerprint): kept and reported. */
  would_keep: number;
  /** S3 objects of the notes it would delete. */
  objects: number;
  /**
   * Legacy notes of the company without provenance (migrated before provenance existed): no run
   * can claim them, so no rollback ever deletes them — including this run's, if it ran before #12.
   */
  notes_without_provenance: number;
}

export async function previewRollback(
  deps: { contactNotes: Pick<ContactNotesRepository, 'streamRunNotes' | 'countWithoutProvenance'> },
  target: Pick<RunDoc, '_id' | 'company_sso_id'>,
): Promise<RollbackPreview> {
  const preview: RollbackPreview = {
    would_delete: 0,
    would_keep: 0,
    objects: 0,
    notes_without_provenance: 0,
  };
  for await (const note of deps.contactNotes.streamRunNotes(target.company_sso_id, target._id)) {
    const decision = rollbackDecisionOf(target.company_sso_id, note);
    if (decision.action === 'keep') preview.would_keep++;
    else {
      preview.would_delete++;
      preview.objects += decision.objectKeys.length;
    }
  }
  preview.notes_without_provenance = await deps.contactNotes.countWithoutProvenance(target.company_sso_id);
  return preview;
}
