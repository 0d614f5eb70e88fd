/**
 * `migration_run_scratch`: bounded side data of one run (#14) — the CRM ids a reconcile or repair
 * met, so the orphan pass asks "did CRM return this id?" one batch at a time instead of holding a
 * tenant's ids in memory. Writes are upserts on (run, purpose, key): a replayed page adds nothing.
 */
import type { Collection } from 'mongodb';

import type { RunScratchDoc } from './documents.js';

export interface RunScratchRepository {
  markSeen(runId: string, page: number, legacyCrmNoteIds: readonly string[], now: Date): Promise<void>;
  /** Which of these ids the run has seen (one `$in` on the unique key). */
  findSeen(runId: string, legacyCrmNoteIds: readonly string[]): Promise<Set<string>>;
  /** Everything filed under the run (it ended). */
  clear(runId: string): Promise<void>;
}

export function createRunScratchRepository(collection: Collection<RunScratchDoc>): RunScratchRepository {
  return {
    async markSeen(runId, page, ids, now) {
      if (ids.length === 0) return;
      await collection.bulkWrite(
        ids.map((key) => ({
          updateOne: {
            filter: { run_id: runId, purpose: 'seen' as const, key },
            update: { $setOnInsert: { run_id: runId, purpose: 'seen' as const, key, page, created_at: now } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    },

    async findSeen(runId, ids) {
      if (ids.length === 0) return new Set();
      const docs = await collection
        .find({ run_id: runId, purpose: 'seen', key: { $in: [...ids] } }, { projection: { _id: 0, key: 1 } })
        .toArray();
      return new Set(docs.map((d) => d.key));
    },

    async clear(runId) {
      await collection.deleteMany({ run_id: runId });
    },
  };
}
