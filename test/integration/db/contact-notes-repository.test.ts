import { describe, expect, inject, it } from 'vitest';

import { makeMigratedNote, makeMigratedNotes } from '../../fixtures/builders.js';
import { useTestDb } from '../../helpers/test-db.js';

const caps = inject('caps');
const t = useTestDb(import.meta.url);

describe('ContactNotesRepository.createNotesBatch', () => {
  it('inserts a new note with the caller timestamps, not the clock', async () => {
    const note = makeMigratedNote({ company_sso_id: 'ts-co', legacy_crm_note_id: 'crm-1' });
    const result = await t.repos.contactNotes.createNotesBatch([note]);
    expect(result).toMatchObject({ migrated: 1, skipped: 0, failed: [] });
    const stored = await t.collections.contactNotes.findOne({
      company_sso_id: 'ts-co',
      legacy_crm_note_id: 'crm-1',
    });
    expect(stored?.created_at).toEqual(new Date('2019-03-04T05:06:07.000Z'));
    expect(stored?.updated_at).toEqual(new Date('2020-01-02T03:04:05.000Z'));
    expect(stored?.is_deleted).toBe(false);
    expect(stored?.attachments).toEqual([]);
  });

  it('skips a note already migrated, without a duplicate key error, and leaves it untouched', async () => {
    const first = makeMigratedNote({
      company_sso_id: 'rerun-co',
      legacy_crm_note_id: 'crm-1',
      note: 'original',
    });
    await t.repos.contactNotes.createNotesBatch([first]);
    const again = await t.repos.contactNotes.createNotesBatch([{ ...first, note: 'changed in CRM since' }]);
    expect(again).toMatchObject({ migrated: 0, skipped: 1, failed: [] });
    const stored = await t.collections.contactNotes.find({ company_sso_id: 'rerun-co' }).toArray();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.note).toBe('original');
  });

  it('skips every note of a full re-run of 1,000 notes', async () => {
    const notes = makeMigratedNotes(1000, { company_sso_id: 'thousand-co' });
    const first = await t.repos.contactNotes.createNotesBatch(notes);
    expect(first).toMatchObject({ migrated: 1000, skipped: 0, failed: [] });
    const rerun = await t.repos.contactNotes.createNotesBatch(notes);
    expect(rerun).toMatchObject({ migrated: 0, skipped: 1000, failed: [] });
    expect(await t.repos.contactNotes.countLegacyNotes('thousand-co')).toBe(1000);
  });

  it.skipIf(!caps.partialUniqueIndexes)(
    `lets human-written notes (no legacy id) coexist in one company with migrated ones [needs capability partialUniqueIndexes: ${caps.reasons.partialUniqueIndexes}]`,
    async () => {
      const human = {
        _id: undefined as never,
        company_sso_id: 'mixed-co',
        contact_id: 'c',
        owner_id: 'u',
        note: 'by a person',
        attachments: [],
        is_deleted: false,
        created_at: new Date(),
        updated_at: new Date(),
      };
      await t.collections.contactNotes.insertOne({ ...human });
      await t.collections.contactNotes.insertOne({ ...human, note: 'another by a person' });
      const result = await t.repos.contactNotes.createNotesBatch(
        makeMigratedNotes(3, { company_sso_id: 'mixed-co' }),
      );
      expect(result.migrated).toBe(3);
      await t.collections.contactNotes.insertOne({ ...human, note: 'a third, after the migration' });
      expect(await t.collections.contactNotes.countDocuments({ company_sso_id: 'mixed-co' })).toBe(6);
      expect(await t.repos.contactNotes.countLegacyNotes('mixed-co')).toBe(3);
    },
  );

  it('writes 499 of 500 when the database refuses one document, reporting WRITE_FAILED with its id', async () => {
    // A schema validator stands in for any server-side refusal of one document.
    await t.db.createCollection('contact_notes_validated', {
      validator: {
        $jsonSchema: { bsonType: 'object', properties: { note: { bsonType: 'string', maxLength: 50 } } },
      },
    });
    const { createContactNotesRepository } = await import('../../../src/db/contact-notes-repository.js');
    const repo = createContactNotesRepository(t.db.collection('contact_notes_validated'));
    const notes = makeMigratedNotes(500, { company_sso_id: 'bad-co' });
    notes[123] = { ...notes[123]!, note: 'x'.repeat(51) };
    const result = await repo.createNotesBatch(notes);
    expect(result.migrated).toBe(499);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]).toMatchObject({ legacy_crm_note_id: '124', reasonCode: 'WRITE_FAILED' });
    expect(result.writtenIds).toHaveLength(499);
    expect(
      await t.db.collection('contact_notes_validated').countDocuments({ company_sso_id: 'bad-co' }),
    ).toBe(499);
  });

  it('refuses a batch that repeats a legacy id instead of hiding it as skipped', async () => {
    const n = makeMigratedNote({ company_sso_id: 'dup-co' });
    await expect(t.repos.contactNotes.createNotesBatch([n, n])).rejects.toThrow(/appears twice/);
  });
});

describe('ContactNotesRepository existence checks (a re-run skips notes already in CDP)', () => {
  it('names exactly the ids of this company that are already migrated', async () => {
    await t.repos.contactNotes.createNotesBatch(makeMigratedNotes(5, { company_sso_id: 'exists-co' }));
    await t.repos.contactNotes.createNotesBatch(makeMigratedNotes(5, { company_sso_id: 'other-co' }));
    const ids = (await t.collections.contactNotes.find({ company_sso_id: 'exists-co' }).toArray()).map(
      (d) => d.legacy_crm_note_id!,
    );
    const found = await t.repos.contactNotes.findExistingIds('exists-co', [
      ids[0]!,
      ids[3]!,
      'never-written',
    ]);
    expect([...found].sort()).toEqual([ids[0], ids[3]].sort());
    expect(await t.repos.contactNotes.findExistingIds('nobody-co', ids)).toEqual(new Set());
    expect(await t.repos.contactNotes.findExistingIds('exists-co', [])).toEqual(new Set());
  });

  it('tells a company with migrated notes from one without', async () => {
    await t.repos.contactNotes.createNotesBatch(makeMigratedNotes(1, { company_sso_id: 'has-co' }));
    expect(await t.repos.contactNotes.hasLegacyNotes('has-co')).toBe(true);
    expect(await t.repos.contactNotes.hasLegacyNotes('empty-co')).toBe(false);
  });
});
