/**
 * `migration_run_scratch`: bounded side data of one run (#14). `seen` — the CRM ids a reconcile
 * or repair met, so the orphan pass asks "did CRM return this id?" one batch at a time instead of
 * holding a tenant's ids in memory; `delete_intent` — the notes a rollback page is about to
 * delete, with their object keys, so a crash (or a failed run) between the delete and the
 * checkpoint loses no object and no count. Intents are filed under the run being rolled back, so
 * any later rollback of it finishes them. Writes are upserts on (run, purpose, key): a replayed
 * page adds nothing.
 */
import type { Collection } from 'mongodb';

import type { RunScratchDoc } from './documents.js';

export interface DeleteIntent {
  /** The note's `_id` in hex. */
  noteId: string;
  objectKeys: string[];
}

export interface StoredDeleteIntent extends DeleteIntent {
  page: number;
  writtenBy: string;
}

export interface RunScratchRepository {
  markSeen(runId: string, page: number, legacyCrmNoteIds: readonly string[], now: Date): Promise<void>;
  /** Which of these ids the run has seen (one `$in` on the unique key). */
  findSeen(runId: string, legacyCrmNoteIds: readonly string[]): Promise<Set<string>>;
  recordDeleteIntents(
    targetRunId: string,
    writtenBy: string,
    page: number,
    intents: readonly DeleteIntent[],
    now: Date,
  ): Promise<void>;
  /** Every intent on the target's notes (a page or two: older ones are dropped as pages commit). */
  listDeleteIntents(targetRunId: string): Promise<StoredDeleteIntent[]>;
  /** Drops intents on the target's notes except those `writtenBy` wrote from `page` on. */
  dropDeleteIntents(targetRunId: string, keep: { writtenBy: string; fromPage: number }): Promise<void>;
  /** Everything filed under the run (it ended). */
  clear(runId: string): Promise<void>;
}

export function createRunScratchRepository(collection: Collection<RunScratchDoc>): RunScratchRepository {
  const upsertAll = async (docs: Omit<RunScratchDoc, '_id'>[]) => {
    if (docs.length === 0) return;
    await collection.bulkWrite(
      docs.map((doc) => ({
        updateOne: {
          filter: { run_id: doc.run_id, purpose: doc.purpose, key: doc.key },
          // $set, not $setOnInsert: a note's intent moves to the page (and run) that last wrote it.
          update: { $set: doc },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  };
  return {
    markSeen: (runId, page, ids, now) =>
      upsertAll(ids.map((key) => ({ run_id: runId, purpose: 'seen', key, page, created_at: now }))),

    async findSeen(runId, ids) {
      if (ids.length === 0) return new Set();
      const docs = await collection
        .find({ run_id: runId, purpose: 'seen', key: { $in: [...ids] } }, { projection: { _id: 0, key: 1 } })
        .toArray();
      return new Set(docs.map((d) => d.key));
    },

    recordDeleteIntents: (targetRunId, writtenBy, page, intents, now) =>
      upsertAll(
        intents.map((i) => ({
          run_id: targetRunId,
          written_by: writtenBy,
          purpose: 'delete_intent',
          key: i.noteId,
          page,
          object_keys: i.objectKeys,
          created_at: now,
        })),
      ),

    async listDeleteIntents(targetRunId) {
      const docs = await collection.find({ run_id: targetRunId, purpose: 'delete_intent' }).toArray();
      return docs.map((d) => ({
        noteId: d.key,
        objectKeys: d.object_keys ?? [],
        page: d.page,
        writtenBy: d.written_by ?? '',
      }));
    },

    async dropDeleteIntents(targetRunId, keep) {
      await collection.deleteMany({
        run_id: targetRunId,
        purpose: 'delete_intent',
        $nor: [{ written_by: keep.writtenBy, page: { $gte: keep.fromPage } }],
      });
    },

    async clear(runId) {
      await collection.deleteMany({ run_id: runId });
    },
  };
}
