/**
 * How one CRM note compares with CDP (DESIGN.md §11.5), as pure decisions: the verdict from the
 * stored note and the fingerprint of what a migration would write now, the finding recorded for
 * it, and the verdict totals a run keeps. A note whose current fields already equal the new
 * output is `ok` whoever changed what; a note without a fingerprint is `no_provenance`, never
 * `ok` or `stale` (docs/run-kinds.md "Notes migrated before provenance existed").
 */
import type { StoredNoteDoc } from '../db/contact-notes-provenance.js';
import type { VerdictTotalsDoc } from '../db/documents.js';
import { RECONCILE_VERDICTS, type ReconcileVerdict, VERDICT_CODES } from '../domain.js';
import { type FingerprintedFields, fingerprintOf, provenanceOf } from './note-fingerprint.js';
import type { Problem } from './prepare-notes.js';

/** What a migration would do with the note now: write this fingerprint, or fail for this reason. */
export type WouldWrite = { fingerprint: string } | { failure: Problem };

export function verdictOf(
  stored: StoredNoteDoc | null,
  now: WouldWrite,
): Exclude<ReconcileVerdict, 'orphan'> {
  if ('failure' in now) return 'still_failing';
  if (stored === null) return 'missing';
  const provenance = provenanceOf(stored);
  if (provenance === 'unknown') return 'no_provenance';
  if (currentFingerprint(stored) === now.fingerprint) return 'ok';
  // Untouched, and not equal to the new output: CRM (or what a migration makes of it) changed.
  if (provenance === 'untouched') return 'stale';
  // The stored fingerprint is what the migration wrote: equal to the new output = CRM unchanged.
  return stored.legacy_fingerprint === now.fingerprint ? 'edited_in_cdp' : 'conflict';
}

/** The fingerprint of the note's fields as they are now (null when a field has another type). */
export function currentFingerprint(stored: StoredNoteDoc): string | null {
  const f: Partial<FingerprintedFields> = stored;
  if (
    typeof f.note !== 'string' ||
    typeof f.contact_id !== 'string' ||
    !(f.owner_id === null || typeof f.owner_id === 'string') ||
    !Array.isArray(f.attachments) ||
    !(f.created_at instanceof Date) ||
    !(f.updated_at instanceof Date)
  ) {
    return null;
  }
  return fingerprintOf(f as FingerprintedFields);
}

/** The finding of a verdict (`ok` has none), with what an analyst needs to act on it. */
export function findingOf(
  noteId: string,
  verdict: ReconcileVerdict,
  stored: StoredNoteDoc | null,
  now: WouldWrite | null,
): Problem | null {
  const reasonCode = VERDICT_CODES[verdict];
  if (reasonCode === null) return null;
  const newFingerprint = now && 'fingerprint' in now ? now.fingerprint : null;
  const details: Record<string, unknown> = {
    verdict,
    ...(stored
      ? {
          note_id: stored._id.toHexString(),
          migrated_by_run_id: stored.legacy_migration_run_id ?? null,
          stored_fingerprint: stored.legacy_fingerprint ?? null,
          current_fingerprint: currentFingerprint(stored),
        }
      : { in_cdp: false }),
    ...(newFingerprint === null ? {} : { new_fingerprint: newFingerprint }),
  };
  if (now && 'failure' in now) {
    details.reason_code = now.failure.reasonCode;
    details.reason_details = now.failure.details;
  }
  if (verdict === 'orphan' && stored) details.provenance = provenanceOf(stored);
  if (verdict === 'no_provenance' && stored)
    details.matches_crm_now = currentFingerprint(stored) === newFingerprint;
  return { noteId, reasonCode, details };
}

export function emptyVerdictTotals(): VerdictTotalsDoc {
  return Object.fromEntries(RECONCILE_VERDICTS.map((v) => [v, 0])) as VerdictTotalsDoc;
}

export function addVerdicts(
  totals: VerdictTotalsDoc,
  verdicts: readonly ReconcileVerdict[],
): VerdictTotalsDoc {
  const next = { ...emptyVerdictTotals(), ...totals };
  for (const v of verdicts) next[v]++;
  return next;
}
