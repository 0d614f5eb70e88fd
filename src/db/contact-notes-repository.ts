/**
 * `contact_notes`: the idempotent batch write of migrated notes (breakdown Task 1.1), the count
 * validation needs, and the read path's query; the queries by provenance (compare, rollback,
 * repair) are in `contact-notes-provenance.ts`. Notes written by people (no `legacy_crm_note_id`)
 * are never matched by any write.
 */
import { type AnyBulkWriteOperation, type Collection, MongoBulkWriteError, type WriteError } from 'mongodb';

import type { NoteFailureCode } from '../domain.js';
import { toError } from '../errors.js';
import { createProvenanceQueries, type ProvenanceQueries } from './contact-notes-provenance.js';
import type { ContactNoteDoc, NoteAttachmentDoc } from './documents.js';
import { isTransientMongoError } from './mongo-errors.js';

/** A note ready to write. Timestamps come from CRM, never from the clock. */
export interface NewMigratedNote {
  company_sso_id: string;
  contact_id: string;
  owner_id: string | null;
  note: string;
  attachments: NoteAttachmentDoc[];
  created_at: Date;
  updated_at: Date;
  legacy_crm_note_id: string;
  legacy_owner_label?: string;
  /** Provenance (DESIGN.md §11.2), written in the same `$setOnInsert`: no extra write per note. */
  legacy_migration_run_id: string;
  legacy_fingerprint: string;
  /** The run's CRM page that writes it (see `ContactNoteDoc.legacy_migration_page`). */
  legacy_migration_page?: number;
}

export interface NoteWriteFailure {
  legacy_crm_note_id: string;
  reasonCode: Extract<NoteFailureCode, 'WRITE_FAILED'>;
  details: { code?: number | string; message: string };
}

export interface NotesBatchResult {
  /** Inserted now. */
  migrated: number;
  /** Already in CDP from an earlier run; left untouched. */
  skipped: number;
  /** Notes the database refused; the rest of the batch landed. */
  failed: NoteWriteFailure[];
  /** `legacy_crm_note_id`s of `migrated` and `skipped`, for closure accounting. */
  writtenIds: string[];
}

export interface ContactNotesRepository extends ProvenanceQueries {
  createNotesBatch(notes: readonly NewMigratedNote[]): Promise<NotesBatchResult>;
  countLegacyNotes(companySsoId: string): Promise<number>;
  /** Whether the company holds any migrated note at all (one index probe). */
  hasLegacyNotes(companySsoId: string): Promise<boolean>;
  /** Which of these CRM note ids are already in CDP for the company (one `$in` on the unique index). */
  findExistingIds(companySsoId: string, legacyCrmNoteIds: readonly string[]): Promise<Set<string>>;
  /** How many of these notes were inserted by run `runId` (their provenance), e.g. before a crash. */
  /** How many of these notes were inserted by `runId` while it wrote its CRM page `page`. */
  countInsertedByRun(
    companySsoId: string,
    legacyCrmNoteIds: readonly string[],
    runId: string,
    page: number,
  ): Promise<number>;
  listForContact(companySsoId: string, contactId: string, limit: number): Promise<ContactNoteDoc[]>;
}

export function createContactNotesRepository(collection: Collection<ContactNoteDoc>): ContactNotesRepository {
  return {
    ...createProvenanceQueries(collection),
    createNotesBatch: (notes) => createNotesBatch(collection, notes),

    countLegacyNotes: (companySsoId) =>
      collection.countDocuments({ company_sso_id: companySsoId, legacy_crm_note_id: { $exists: true } }),

    async hasLegacyNotes(companySsoId) {
      const one = await collection.findOne(
        { company_sso_id: companySsoId, legacy_crm_note_id: { $exists: true } },
        { projection: { _id: 1 } },
      );
      return one !== null;
    },

    async findExistingIds(companySsoId, legacyCrmNoteIds) {
      if (legacyCrmNoteIds.length === 0) return new Set();
      const found = await collection
        .find(
          { company_sso_id: companySsoId, legacy_crm_note_id: { $in: [...legacyCrmNoteIds] } },
          { projection: { _id: 0, legacy_crm_note_id: 1 } },
        )
        .toArray();
      return new Set(found.map((d) => d.legacy_crm_note_id).filter((id): id is string => id !== undefined));
    },

    async countInsertedByRun(companySsoId, legacyCrmNoteIds, runId, page) {
      if (legacyCrmNoteIds.length === 0) return 0;
      // Read the page's notes by the unique index and compare the provenance here: the test
      // server (SecantusDB 0.7.0b3) plans `{company, $in, run id}` as a collection scan that
      // returns nothing although the documents match (docs/testing.md). A page is a few hundred
      // small projections, read only when the write found notes already there.
      const found = await collection
        .find(
          { company_sso_id: companySsoId, legacy_crm_note_id: { $in: [...legacyCrmNoteIds] } },
          { projection: { _id: 0, legacy_migration_run_id: 1, legacy_migration_page: 1 } },
        )
        .toArray();
      return found.filter((d) => d.legacy_migration_run_id === runId && d.legacy_migration_page === page)
        .length;
    },

    listForContact: (companySsoId, contactId, limit) =>
      collection
        .find({ company_sso_id: companySsoId, contact_id: contactId, is_deleted: false })
        .sort({ created_at: -1, _id: -1 })
        .limit(limit)
        .toArray(),
  };
}

function toUpsert(note: NewMigratedNote): AnyBulkWriteOperation<ContactNoteDoc> {
  const doc: Omit<ContactNoteDoc, '_id'> = {
    company_sso_id: note.company_sso_id,
    contact_id: note.contact_id,
    owner_id: note.owner_id,
    note: note.note,
    // Set explicitly: the single-note create path's defaults are not applied to migrated notes.
    attachments: note.attachments,
    is_deleted: false,
    created_at: note.created_at,
    updated_at: note.updated_at,
    legacy_crm_note_id: note.legacy_crm_note_id,
    ...(note.legacy_owner_label === undefined ? {} : { legacy_owner_label: note.legacy_owner_label }),
    legacy_migration_run_id: note.legacy_migration_run_id,
    legacy_fingerprint: note.legacy_fingerprint,
    ...(note.legacy_migration_page === undefined
      ? {}
      : { legacy_migration_page: note.legacy_migration_page }),
  };
  return {
    updateOne: {
      // Matches only migrated notes: the equality implies the partial index's `$exists` filter.
      filter: { company_sso_id: note.company_sso_id, legacy_crm_note_id: note.legacy_crm_note_id },
      // $setOnInsert: an existing note is never modified, so a re-run cannot undo edits made in CDP.
      update: { $setOnInsert: doc },
      upsert: true,
    },
  };
}

async function createNotesBatch(
  collection: Collection<ContactNoteDoc>,
  notes: readonly NewMigratedNote[],
): Promise<NotesBatchResult> {
  if (notes.length === 0) return { migrated: 0, skipped: 0, failed: [], writtenIds: [] };
  assertUniqueIds(notes);
  const ops = notes.map(toUpsert);
  try {
    const result = await collection.bulkWrite(ops, { ordered: false });
    return {
      migrated: result.upsertedCount,
      skipped: result.matchedCount,
      failed: [],
      writtenIds: notes.map((n) => n.legacy_crm_note_id),
    };
  } catch (e) {
    if (e instanceof MongoBulkWriteError && e.writeErrors !== undefined && !isTransientMongoError(e)) {
      return fromPartialFailure(e, notes);
    }
    if (isTransientMongoError(e)) throw e;
    // A client-side rejection (e.g. one document over the BSON size limit) fails the whole
    // batch before anything is sent: write one by one so only the bad notes fail.
    return writeOneByOne(collection, notes);
  }
}

function fromPartialFailure(e: MongoBulkWriteError, notes: readonly NewMigratedNote[]): NotesBatchResult {
  const writeErrors = ([] as WriteError[]).concat(e.writeErrors);
  const failedIndexes = new Set<number>();
  const failed: NoteWriteFailure[] = [];
  for (const we of writeErrors) {
    const note = notes[we.index];
    if (!note) continue;
    failedIndexes.add(we.index);
    failed.push({
      legacy_crm_note_id: note.legacy_crm_note_id,
      reasonCode: 'WRITE_FAILED',
      details: { code: we.code, message: we.errmsg ?? 'write error' },
    });
  }
  return {
    migrated: e.result.upsertedCount,
    skipped: e.result.matchedCount,
    failed,
    writtenIds: notes.filter((_, i) => !failedIndexes.has(i)).map((n) => n.legacy_crm_note_id),
  };
}

async function writeOneByOne(
  collection: Collection<ContactNoteDoc>,
  notes: readonly NewMigratedNote[],
): Promise<NotesBatchResult> {
  const out: NotesBatchResult = { migrated: 0, skipped: 0, failed: [], writtenIds: [] };
  for (const note of notes) {
    try {
      const r = await collection.bulkWrite([toUpsert(note)], { ordered: true });
      out.migrated += r.upsertedCount;
      out.skipped += r.matchedCount;
      out.writtenIds.push(note.legacy_crm_note_id);
    } catch (e) {
      if (isTransientMongoError(e)) throw e;
      const err = toError(e);
      const code = (err as { code?: number | string }).code;
      out.failed.push({
        legacy_crm_note_id: note.legacy_crm_note_id,
        reasonCode: 'WRITE_FAILED',
        details: { ...(code === undefined ? {} : { code }), message: err.message },
      });
    }
  }
  return out;
}

/** Two notes with one id in one batch would count one as "skipped" and hide a CRM bug. */
function assertUniqueIds(notes: readonly NewMigratedNote[]): void {
  const seen = new Set<string>();
  for (const n of notes) {
    if (seen.has(n.legacy_crm_note_id)) {
      throw new Error(
        `createNotesBatch: legacy_crm_note_id ${n.legacy_crm_note_id} appears twice in one batch`,
      );
    }
    seen.add(n.legacy_crm_note_id);
  }
}
