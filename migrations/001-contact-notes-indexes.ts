/** `contact_notes`: the idempotency key of migrated notes and the read path's index (DESIGN.md §3). */
import type { IndexMigration } from '../src/db/index-migrations.js';

export const contactNotesIndexes: IndexMigration = {
  id: '001-contact-notes-indexes',
  description:
    'contact_notes: unique partial (company_sso_id, legacy_crm_note_id); (contact_id, created_at desc)',
  indexes: [
    {
      collection: 'contact_notes',
      name: 'uq_contact_notes_company_legacy_crm_note_id',
      key: { company_sso_id: 1, legacy_crm_note_id: 1 },
      // Partial: notes written by people have no legacy id and must never collide with each other.
      options: { unique: true, partialFilterExpression: { legacy_crm_note_id: { $exists: true } } },
    },
    {
      collection: 'contact_notes',
      name: 'ix_contact_notes_contact_created',
      key: { contact_id: 1, created_at: -1 },
    },
  ],
};
