import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { INDEX_MIGRATIONS } from '../../../migrations/index.js';
import { createIndexMigrationRunner } from '../../../src/db/index-migrations.js';
import { makeMigratedNotes } from '../../fixtures/builders.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url, { migrate: false });

async function indexesOf(collection: string) {
  const list = await t.db
    .collection(collection)
    .listIndexes()
    .toArray()
    .catch(() => []);
  return Object.fromEntries(
    list
      .filter((i) => i.name !== '_id_')
      .map((i) => [
        i.name,
        { key: i.key, unique: i.unique ?? false, partial: i.partialFilterExpression ?? null },
      ]),
  );
}

async function notesFingerprint(): Promise<string> {
  const docs = await t.collections.contactNotes.find({}).sort({ _id: 1 }).toArray();
  return createHash('sha256').update(JSON.stringify(docs)).digest('hex');
}

describe('index migrations', () => {
  it('up, up again, down, up on a collection holding notes: indexes as listed, documents byte-identical', async () => {
    const runner = createIndexMigrationRunner(t.db, INDEX_MIGRATIONS);
    await t.collections.contactNotes.insertMany(
      makeMigratedNotes(50).map((n) => ({ ...n, attachments: [], is_deleted: false }) as never),
    );
    await t.collections.contactNotes.insertOne({
      company_sso_id: 'company-1',
      note: 'written by a person',
    } as never);
    const before = await notesFingerprint();

    expect(await runner.up()).toEqual(INDEX_MIGRATIONS.map((m) => m.id));
    const notesIndexes = await indexesOf('contact_notes');
    expect(notesIndexes.uq_contact_notes_company_legacy_crm_note_id).toEqual({
      key: { company_sso_id: 1, legacy_crm_note_id: 1 },
      unique: true,
      partial: { legacy_crm_note_id: { $exists: true } },
    });
    expect(notesIndexes.ix_contact_notes_contact_created?.key).toEqual({ contact_id: 1, created_at: -1 });
    expect(Object.keys(await indexesOf('migration_failures')).sort()).toEqual([
      'ix_migration_failures_cid_id',
      'ix_migration_failures_cid_reason',
      'uq_migration_failures_run_note_reason',
    ]);
    const afterFirstUp = {
      notes: await indexesOf('contact_notes'),
      users: await indexesOf('users'),
      runs: await indexesOf('migration_runs'),
    };

    expect(await runner.up()).toEqual([]);
    expect(await indexesOf('contact_notes')).toEqual(afterFirstUp.notes);

    expect(await runner.down(INDEX_MIGRATIONS.length)).toEqual(INDEX_MIGRATIONS.map((m) => m.id).reverse());
    expect(await indexesOf('contact_notes')).toEqual({});
    expect(await indexesOf('users')).toEqual({});

    await runner.up();
    expect({
      notes: await indexesOf('contact_notes'),
      users: await indexesOf('users'),
      runs: await indexesOf('migration_runs'),
    }).toEqual(afterFirstUp);
    expect(await notesFingerprint()).toBe(before);
  });

  it('reports status and reverts only the newest migration by default', async () => {
    const runner = createIndexMigrationRunner(t.db, INDEX_MIGRATIONS);
    await runner.up();
    expect(await runner.down()).toEqual([INDEX_MIGRATIONS.at(-1)!.id]);
    const status = await runner.status();
    expect(status.map((s) => s.appliedAt !== null)).toEqual(
      INDEX_MIGRATIONS.map((_, i) => i < INDEX_MIGRATIONS.length - 1),
    );
    await runner.up();
  });

  it('refuses migrations out of order', () => {
    expect(() => createIndexMigrationRunner(t.db, [...INDEX_MIGRATIONS].reverse())).toThrow(
      /ascending order/,
    );
  });

  it('explains how to fix an index that conflicts with one created by hand', async () => {
    const runner = createIndexMigrationRunner(t.db, INDEX_MIGRATIONS);
    await runner.down(INDEX_MIGRATIONS.length);
    await t.db
      .collection('contact_notes')
      .createIndex({ contact_id: 1 }, { name: 'ix_contact_notes_contact_created' });
    await expect(runner.up()).rejects.toThrow(/conflicts with an existing index.*migrate up/s);
    await t.db.collection('contact_notes').dropIndex('ix_contact_notes_contact_created');
    await runner.up();
  });
});
