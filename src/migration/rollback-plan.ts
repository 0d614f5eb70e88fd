/**
 * What a rollback does with one note of its target run (DESIGN.md §11.6), as a pure decision
 * shared by the preview and the rollback run, so the preview's counts are the run's by
 * construction: untouched → delete it and its hosted objects; touched or without a fingerprint
 * (provenance unknown) → keep it. Objects are the keys read back from the note's own attachment
 * URLs (`objectKeyOfHostedUrl`): only what the note references, never a key outside its folder.
 */
import { objectKeyOfHostedUrl } from '../attachments/asset-key.js';
import type { StoredNoteDoc } from '../db/contact-notes-provenance.js';
import type { RollbackTotalsDoc } from '../db/documents.js';
import { type Provenance, provenanceOf } from './note-fingerprint.js';

export type RollbackDecision =
  | { action: 'delete'; objectKeys: string[] }
  | { action: 'keep'; provenance: Exclude<Provenance, 'untouched'> };

export function rollbackDecisionOf(companySsoId: string, note: StoredNoteDoc): RollbackDecision {
  const provenance = provenanceOf(note);
  if (provenance !== 'untouched') return { action: 'keep', provenance };
  return { action: 'delete', objectKeys: hostedObjectKeys(companySsoId, note) };
}

export function hostedObjectKeys(companySsoId: string, note: StoredNoteDoc): string[] {
  const noteId = note.legacy_crm_note_id;
  if (noteId === undefined) return [];
  const keys = note.attachments
    .map((a) => objectKeyOfHostedUrl(a.url, companySsoId, noteId))
    .filter((k): k is string => k !== null);
  return [...new Set(keys)];
}

export const NO_ROLLBACK_TOTALS: Readonly<RollbackTotalsDoc> = {
  notes_deleted: 0,
  notes_kept: 0,
  objects_deleted: 0,
};

export function addRollbackTotals(a: RollbackTotalsDoc, b: RollbackTotalsDoc): RollbackTotalsDoc {
  return {
    notes_deleted: a.notes_deleted + b.notes_deleted,
    notes_kept: a.notes_kept + b.notes_kept,
    objects_deleted: a.objects_deleted + b.objects_deleted,
  };
}
