/**
 * What a migration writes for one prepared note (DESIGN.md §3, §11.2): the CDP fields, the
 * idempotency key and the provenance. Pure, so reconcile can compute "what a migration would
 * write now" and compare fingerprints without writing.
 */
import type { NewMigratedNote } from '../db/contact-notes-repository.js';
import { fingerprintOf } from './note-fingerprint.js';
import type { Candidate } from './prepare-notes.js';

export function migratedNoteOf(companySsoId: string, runId: string, c: Candidate): NewMigratedNote {
  const fields = {
    contact_id: c.contactId,
    owner_id: c.owner.mapped ? c.owner.ownerId : null,
    note: c.html,
    attachments: c.attachments,
    created_at: c.crm.createdAt,
    updated_at: c.crm.updatedAt,
    ...(c.owner.mapped ? {} : { legacy_owner_label: c.owner.legacyOwnerLabel }),
  };
  return {
    ...fields,
    company_sso_id: companySsoId,
    legacy_crm_note_id: c.crm.id,
    legacy_migration_run_id: runId,
    legacy_fingerprint: fingerprintOf(fields),
  };
}
