/**
 * #14: a rollback pages the notes of run R in `_id` order by cursor (deletes make page numbers
 * shift), which needs `_id` in the index after the equality fields — index 005 orders ties by
 * record id, so every page would sort all of R's notes. And the per-run scratch collection.
 */
import type { IndexMigration } from '../src/db/index-migrations.js';

/** How long scratch data of a run that never ended stays (a finished run removes its own at once). */
const SCRATCH_TTL_SECONDS = 7 * 24 * 3_600;

export const runNotesCursorAndScratchIndexes: IndexMigration = {
  id: '006-run-notes-cursor-and-scratch',
  description:
    'contact_notes: partial (company_sso_id, legacy_migration_run_id, _id); migration_run_scratch keys and TTL',
  indexes: [
    {
      collection: 'contact_notes',
      name: 'ix_contact_notes_company_migration_run_id',
      key: { company_sso_id: 1, legacy_migration_run_id: 1, _id: 1 },
      options: { partialFilterExpression: { legacy_migration_run_id: { $exists: true } } },
    },
    {
      collection: 'migration_run_scratch',
      name: 'uq_migration_run_scratch_run_purpose_key',
      key: { run_id: 1, purpose: 1, key: 1 },
      // Unique: a page replayed after a crash writes nothing twice.
      options: { unique: true },
    },
    {
      collection: 'migration_run_scratch',
      name: 'ttl_migration_run_scratch_created',
      key: { created_at: 1 },
      options: { expireAfterSeconds: SCRATCH_TTL_SECONDS },
    },
  ],
};
