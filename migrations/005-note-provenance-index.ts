/**
 * `contact_notes`: the notes one run inserted (DESIGN.md §11.2), for rollback and reconcile (#14).
 * Partial on the provenance field, so notes written by people and notes migrated before
 * provenance existed are not in it at all.
 */
import type { IndexMigration } from '../src/db/index-migrations.js';

export const noteProvenanceIndex: IndexMigration = {
  id: '005-note-provenance-index',
  description: 'contact_notes: partial (company_sso_id, legacy_migration_run_id)',
  indexes: [
    {
      collection: 'contact_notes',
      name: 'ix_contact_notes_company_migration_run',
      key: { company_sso_id: 1, legacy_migration_run_id: 1 },
      options: { partialFilterExpression: { legacy_migration_run_id: { $exists: true } } },
    },
  ],
};
