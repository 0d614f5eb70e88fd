/**
 * `contact_notes` queries by provenance (DESIGN.md §11.5, §11.6, #14): compare a page of CRM ids
 * with CDP in one query, page one run's notes by `_id`, and the optimistic writes — delete or
 * replace a note only while every field a migration writes still has the value that was read,
 * so a person's edit that lands in between always wins. Split from `contact-notes-repository.ts`
 * (the migration's own writes) to keep each file to one job; both serve one collection.
 */
import type { Collection, Filter } from 'mongodb';
import { ObjectId } from 'mongodb';

import type { NewMigratedNote } from './contact-notes-repository.js';
import type { ContactNoteDoc } from './documents.js';

/** What comparing and the optimistic writes need of a stored note (everything but `is_deleted`). */
export type StoredNoteDoc = Pick<
  ContactNoteDoc,
  | '_id'
  | 'note'
  | 'contact_id'
  | 'owner_id'
  | 'attachments'
  | 'created_at'
  | 'updated_at'
  | 'legacy_crm_note_id'
  | 'legacy_owner_label'
  | 'legacy_migration_run_id'
  | 'legacy_fingerprint'
  | 'legacy_replaced_fingerprint'
  | 'legacy_migration_page'
>;

const STORED_NOTE_PROJECTION = {
  _id: 1,
  note: 1,
  contact_id: 1,
  owner_id: 1,
  attachments: 1,
  created_at: 1,
  updated_at: 1,
  legacy_crm_note_id: 1,
  legacy_owner_label: 1,
  legacy_migration_run_id: 1,
  legacy_fingerprint: 1,
  legacy_replaced_fingerprint: 1,
  legacy_migration_page: 1,
} as const;

/** A stale note and what a migration would write for it now. */
export interface NoteReplacement {
  stored: StoredNoteDoc;
  next: NewMigratedNote;
}

export interface ProvenanceQueries {
  /** The company's notes with these CRM ids, by id: one `$in` on the unique index. */
  findStoredNotes(
    companySsoId: string,
    legacyCrmNoteIds: readonly string[],
  ): Promise<Map<string, StoredNoteDoc>>;
  /** Notes inserted by `runId`, in `_id` order after `afterId` (cursor paging survives deletes). */
  listRunNotes(
    companySsoId: string,
    runId: string,
    afterId: ObjectId | null,
    limit: number,
  ): Promise<StoredNoteDoc[]>;
  /** Every note of `runId`, read lazily in `_id` order (a rollback preview of any size). */
  streamRunNotes(companySsoId: string, runId: string): AsyncIterable<StoredNoteDoc>;
  countRunNotes(companySsoId: string, runId: string): Promise<number>;
  /** Legacy notes of the company with no provenance (migrated before #12): never deleted or replaced. */
  countWithoutProvenance(companySsoId: string): Promise<number>;
  /** The company's legacy CRM ids after `after`, ascending (the orphan pass walks them in batches). */
  listLegacyIdsAfter(companySsoId: string, after: string | null, limit: number): Promise<string[]>;
  /** Deletes each note only if it still holds the values read; returns how many went. */
  deleteUnchanged(notes: readonly StoredNoteDoc[]): Promise<number>;
  /** Which of these note `_id`s still exist (hex strings). */
  findPresentIds(ids: readonly ObjectId[]): Promise<Set<string>>;
  /**
   * Replaces each stale note with its new version only if it still holds the values read; the new
   * version carries `runId`'s provenance and the fingerprint it replaced. Returns the CRM ids
   * replaced (the others were edited meanwhile and are left as they are).
   */
  replaceUnchanged(replacements: readonly NoteReplacement[], runId: string): Promise<Set<string>>;
}

/**
 * Matches the note only while every fingerprinted field (and the fingerprint) is exactly as read.
 * MongoDB equality: an array matches only the same elements in the same order, an embedded
 * document only the same fields in the same order — which is what reading and filtering back gives.
 */
export function unchangedFilter(note: StoredNoteDoc): Filter<ContactNoteDoc> {
  const absent = { $exists: false } as const;
  return {
    _id: note._id,
    legacy_crm_note_id: note.legacy_crm_note_id ?? absent,
    legacy_fingerprint: note.legacy_fingerprint ?? absent,
    note: note.note,
    contact_id: note.contact_id,
    owner_id: note.owner_id,
    legacy_owner_label: note.legacy_owner_label ?? absent,
    attachments: note.attachments,
    created_at: note.created_at,
    updated_at: note.updated_at,
  };
}

export function createProvenanceQueries(collection: Collection<ContactNoteDoc>): ProvenanceQueries {
  const runFilter = (companySsoId: string, runId: string): Filter<ContactNoteDoc> => ({
    company_sso_id: companySsoId,
    legacy_migration_run_id: runId,
  });
  return {
    async findStoredNotes(companySsoId, legacyCrmNoteIds) {
      if (legacyCrmNoteIds.length === 0) return new Map();
      const docs = await collection
        .find<StoredNoteDoc>(
          { company_sso_id: companySsoId, legacy_crm_note_id: { $in: [...legacyCrmNoteIds] } },
          { projection: STORED_NOTE_PROJECTION },
        )
        .toArray();
      return new Map(docs.map((d) => [d.legacy_crm_note_id ?? '', d]));
    },

    listRunNotes: (companySsoId, runId, afterId, limit) =>
      collection
        .find<StoredNoteDoc>(
          afterId
            ? { ...runFilter(companySsoId, runId), _id: { $gt: afterId } }
            : runFilter(companySsoId, runId),
          { projection: STORED_NOTE_PROJECTION },
        )
        .sort({ _id: 1 })
        .limit(limit)
        .toArray(),

    streamRunNotes: (companySsoId, runId) =>
      collection
        .find<StoredNoteDoc>(runFilter(companySsoId, runId), { projection: STORED_NOTE_PROJECTION })
        .sort({ _id: 1 })
        .batchSize(1_000),

    countRunNotes: (companySsoId, runId) => collection.countDocuments(runFilter(companySsoId, runId)),

    countWithoutProvenance: (companySsoId) =>
      collection.countDocuments({
        company_sso_id: companySsoId,
        legacy_crm_note_id: { $exists: true },
        legacy_migration_run_id: { $exists: false },
      }),

    async listLegacyIdsAfter(companySsoId, after, limit) {
      const docs = await collection
        .find(
          {
            company_sso_id: companySsoId,
            legacy_crm_note_id: after === null ? { $exists: true } : { $gt: after },
          },
          { projection: { _id: 0, legacy_crm_note_id: 1 } },
        )
        .sort({ legacy_crm_note_id: 1 })
        .limit(limit)
        .toArray();
      return docs.map((d) => d.legacy_crm_note_id).filter((id): id is string => id !== undefined);
    },

    async deleteUnchanged(notes) {
      if (notes.length === 0) return 0;
      const r = await collection.bulkWrite(
        notes.map((n) => ({ deleteOne: { filter: unchangedFilter(n) } })),
        { ordered: false },
      );
      return r.deletedCount;
    },

    async findPresentIds(ids) {
      if (ids.length === 0) return new Set();
      const docs = await collection.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray();
      return new Set(docs.map((d) => d._id.toHexString()));
    },

    async replaceUnchanged(replacements, runId) {
      if (replacements.length === 0) return new Set();
      await collection.bulkWrite(
        replacements.map(({ stored, next }) => ({
          updateOne: { filter: unchangedFilter(stored), update: replacementUpdate(stored, next) },
        })),
        { ordered: false },
      );
      const ids = replacements.map((r) => r.stored._id);
      const replaced = await collection
        .find(
          { _id: { $in: ids }, legacy_migration_run_id: runId },
          { projection: { _id: 0, legacy_crm_note_id: 1 } },
        )
        .toArray();
      return new Set(replaced.map((d) => d.legacy_crm_note_id ?? ''));
    },
  };
}

/** The fields a migration writes, set to the new version, with the repair's provenance (run and page). */
function replacementUpdate(stored: StoredNoteDoc, next: NewMigratedNote) {
  const unset: Partial<Record<'legacy_owner_label' | 'legacy_migration_page', ''>> = {};
  if (next.legacy_owner_label === undefined) unset.legacy_owner_label = '';
  // The page belongs to the run that wrote the note: the migration's page must not stay on the repair's note.
  if (next.legacy_migration_page === undefined) unset.legacy_migration_page = '';
  const set: Partial<ContactNoteDoc> = {
    note: next.note,
    contact_id: next.contact_id,
    owner_id: next.owner_id,
    attachments: next.attachments,
    created_at: next.created_at,
    updated_at: next.updated_at,
    legacy_migration_run_id: next.legacy_migration_run_id,
    legacy_fingerprint: next.legacy_fingerprint,
    ...(stored.legacy_fingerprint === undefined
      ? {}
      : { legacy_replaced_fingerprint: stored.legacy_fingerprint }),
    ...(next.legacy_owner_label === undefined ? {} : { legacy_owner_label: next.legacy_owner_label }),
    ...(next.legacy_migration_page === undefined
      ? {}
      : { legacy_migration_page: next.legacy_migration_page }),
  };
  return Object.keys(unset).length === 0 ? { $set: set } : { $set: set, $unset: unset };
}

/** Parses a rollback cursor (the last `_id` of a page); null for the first page. */
export function noteIdOfCursor(cursor: string | null): ObjectId | null {
  if (cursor === null || cursor === '') return null;
  if (!/^[0-9a-f]{24}$/.test(cursor)) throw new Error(`not a note cursor: ${JSON.stringify(cursor)}`);
  return new ObjectId(cursor);
}
