/** The service's own collections: flags, runs and the failure log. `migration_locks` needs only `_id`. */
import type { IndexMigration } from '../src/db/index-migrations.js';

export const migrationStateIndexes: IndexMigration = {
  id: '003-migration-state-indexes',
  description: 'feature_flags cid unique; migration_runs (cid, created_at desc); migration_failures keys',
  indexes: [
    { collection: 'feature_flags', name: 'uq_feature_flags_cid', key: { cid: 1 }, options: { unique: true } },
    { collection: 'migration_runs', name: 'ix_migration_runs_cid_created', key: { cid: 1, created_at: -1 } },
    {
      collection: 'migration_failures',
      name: 'ix_migration_failures_cid_reason',
      key: { cid: 1, reason_code: 1 },
    },
    {
      collection: 'migration_failures',
      name: 'uq_migration_failures_run_note_reason',
      key: { run_id: 1, legacy_crm_note_id: 1, reason_code: 1 },
      // Unique: a page replayed after a crash records no failure twice.
      options: { unique: true },
    },
    // Cursor pagination and exports walk one CID's records in _id order.
    { collection: 'migration_failures', name: 'ix_migration_failures_cid_id', key: { cid: 1, _id: 1 } },
  ],
};
