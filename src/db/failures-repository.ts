/**
 * `migration_failures`: one record per (run, note, reason). Written with upserts on that unique
 * key, so a replayed page (after a crash) adds nothing. Read by analysts page by page or as an
 * export stream of any size.
 */
import { type Collection, type Filter, ObjectId } from 'mongodb';

import { type ReasonCode, type RunKind, type Severity, severityOf } from '../domain.js';
import type { FailureDoc } from './documents.js';

export interface NewFailure {
  cid: string;
  companySsoId: string;
  runId: string;
  /** The kind of the recording run, so queries can tell a forecast from a migration (§11.1). */
  kind: RunKind;
  legacyCrmNoteId: string | null;
  reasonCode: ReasonCode;
  details: Record<string, unknown>;
}

export interface FailureQuery {
  cid: string;
  runId?: string | undefined;
  /** Only records of runs of these kinds (the default queries pass the kinds shown by default, §11.1). */
  kinds?: readonly RunKind[] | undefined;
  reasonCode?: ReasonCode | undefined;
  severity?: Severity | undefined;
}

export interface FailurePage {
  items: FailureDoc[];
  /** Pass as `after` for the next page; null at the end. */
  nextCursor: string | null;
}

export interface FailuresRepository {
  /** Returns how many records were new. */
  recordMany(failures: readonly NewFailure[], now: Date): Promise<number>;
  list(query: FailureQuery, page: { after?: string | undefined; limit: number }): Promise<FailurePage>;
  /** Every matching record in `_id` order, read lazily (constant memory). */
  stream(query: FailureQuery): AsyncIterable<FailureDoc>;
  countByReason(runId: string): Promise<Partial<Record<ReasonCode, number>>>;
}

export function createFailuresRepository(collection: Collection<FailureDoc>): FailuresRepository {
  return {
    async recordMany(failures, now) {
      if (failures.length === 0) return 0;
      const r = await collection.bulkWrite(
        failures.map((f) => ({
          updateOne: {
            filter: { run_id: f.runId, legacy_crm_note_id: f.legacyCrmNoteId, reason_code: f.reasonCode },
            update: {
              $setOnInsert: {
                cid: f.cid,
                company_sso_id: f.companySsoId,
                run_id: f.runId,
                kind: f.kind,
                legacy_crm_note_id: f.legacyCrmNoteId,
                reason_code: f.reasonCode,
                severity: severityOf(f.reasonCode),
                details: f.details,
                created_at: now,
              },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      return r.upsertedCount;
    },

    async list(query, { after, limit }) {
      const filter = toFilter(query);
      if (after !== undefined) filter._id = { $gt: new ObjectId(after) };
      const items = await collection
        .find(filter)
        .sort({ _id: 1 })
        .limit(limit + 1)
        .toArray();
      const hasMore = items.length > limit;
      if (hasMore) items.pop();
      const last = items.at(-1);
      return { items, nextCursor: hasMore && last ? last._id.toHexString() : null };
    },

    stream: (query) => collection.find(toFilter(query)).sort({ _id: 1 }).batchSize(1000),

    async countByReason(runId) {
      const rows = await collection
        .aggregate<{ _id: ReasonCode; n: number }>([
          { $match: { run_id: runId } },
          { $group: { _id: '$reason_code', n: { $sum: 1 } } },
        ])
        .toArray();
      return Object.fromEntries(rows.map((r) => [r._id, r.n]));
    },
  };
}

function toFilter(query: FailureQuery): Filter<FailureDoc> {
  const filter: Filter<FailureDoc> = { cid: query.cid };
  if (query.runId !== undefined) filter.run_id = query.runId;
  if (query.kinds !== undefined) {
    // Records stored before kinds existed have no `kind` and are `migrate` records.
    const kinds: (RunKind | null)[] = [...query.kinds];
    if (query.kinds.includes('migrate')) kinds.push(null);
    filter.kind = { $in: kinds } as Filter<FailureDoc>['kind'];
  }
  if (query.reasonCode !== undefined) filter.reason_code = query.reasonCode;
  if (query.severity !== undefined) filter.severity = query.severity;
  return filter;
}
