/**
 * `migration_waves` (#16, DESIGN.md §11.7): a tenant is in one active wave at a time (a unique
 * multikey index on the member CIDs of waves that have not ended), and waves list newest first.
 * `crm_budgets` needs only `_id`.
 */
import type { IndexMigration } from '../src/db/index-migrations.js';

export const waveIndexes: IndexMigration = {
  id: '007-wave-indexes',
  description: 'migration_waves: unique active member CIDs (partial), created_at desc',
  indexes: [
    {
      collection: 'migration_waves',
      name: 'uq_migration_waves_active_cids',
      key: { active_cids: 1 },
      // Partial: an ended wave unsets `active_cids` and leaves the index, so its CIDs are free again.
      options: { unique: true, partialFilterExpression: { active_cids: { $exists: true } } },
    },
    { collection: 'migration_waves', name: 'ix_migration_waves_created', key: { created_at: -1 } },
  ],
};
