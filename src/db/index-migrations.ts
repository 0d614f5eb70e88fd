/**
 * A small index-migration runner. Migrations are declared in `migrations/` as lists of indexes;
 * `up` creates them, `down` drops them by name; applied ids live in `schema_migrations`.
 * Index builds never modify documents, and `createIndex` with an identical spec is a no-op, so
 * re-running is safe. Why not migrate-mongo: docs/operations.md ("Index migrations").
 */
import type { CreateIndexesOptions, Db, IndexSpecification } from 'mongodb';

import { AppError } from '../errors.js';
import { COLLECTIONS, type SchemaMigrationDoc } from './documents.js';
import { isDuplicateKeyError } from './mongo-errors.js';

export interface IndexDefinition {
  collection: string;
  /** Stable name: code and operators refer to indexes by it. */
  name: string;
  key: IndexSpecification;
  options?: Omit<CreateIndexesOptions, 'name'>;
}

export interface IndexMigration {
  /** Sortable id, e.g. `001-contact-notes-indexes`. */
  id: string;
  description: string;
  indexes: IndexDefinition[];
}

export interface MigrationStatusRow {
  id: string;
  description: string;
  appliedAt: Date | null;
}

/** Server error codes for "index not found" on drop (27) and "namespace not found" (26). */
const DROP_NOTHING_CODES = new Set([26, 27]);
/** An index of that name or key already exists with other options. */
const INDEX_CONFLICT_CODES = new Set([85, 86]);

export function createIndexMigrationRunner(db: Db, migrations: readonly IndexMigration[]) {
  assertSorted(migrations);
  const applied = db.collection<SchemaMigrationDoc>(COLLECTIONS.schemaMigrations);

  async function appliedIds(): Promise<Map<string, SchemaMigrationDoc>> {
    const docs = await applied.find({}).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  async function createIndexes(m: IndexMigration): Promise<void> {
    for (const idx of m.indexes) {
      try {
        await db.collection(idx.collection).createIndex(idx.key, { ...idx.options, name: idx.name });
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code === 'number' && INDEX_CONFLICT_CODES.has(code)) {
          throw new AppError(
            'CONFIG_INVALID',
            `Migration ${m.id}: index ${idx.collection}.${idx.name} conflicts with an existing index (${(e as Error).message}). ` +
              'Drop or rename the existing index, then run `notes-migrator migrate up` again.',
            { cause: e },
          );
        }
        throw e;
      }
    }
  }

  async function dropIndexes(m: IndexMigration): Promise<void> {
    for (const idx of [...m.indexes].reverse()) {
      try {
        await db.collection(idx.collection).dropIndex(idx.name);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (!(typeof code === 'number' && DROP_NOTHING_CODES.has(code))) throw e;
      }
    }
  }

  return {
    /** Applies every pending migration in order; returns the ids applied now. */
    async up(now: () => Date = () => new Date()): Promise<string[]> {
      const done = await appliedIds();
      const appliedNow: string[] = [];
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await createIndexes(m);
        try {
          await applied.insertOne({ _id: m.id, description: m.description, applied_at: now() });
          appliedNow.push(m.id);
        } catch (e) {
          // Another process applied it at the same time: its indexes are identical, nothing to do.
          if (!isDuplicateKeyError(e)) throw e;
        }
      }
      return appliedNow;
    },

    /** Reverts the newest `steps` applied migrations; returns the ids reverted. */
    async down(steps = 1): Promise<string[]> {
      const done = await appliedIds();
      const toRevert = migrations
        .filter((m) => done.has(m.id))
        .reverse()
        .slice(0, steps);
      for (const m of toRevert) {
        await dropIndexes(m);
        await applied.deleteOne({ _id: m.id });
      }
      return toRevert.map((m) => m.id);
    },

    async status(): Promise<MigrationStatusRow[]> {
      const done = await appliedIds();
      return migrations.map((m) => ({
        id: m.id,
        description: m.description,
        appliedAt: done.get(m.id)?.applied_at ?? null,
      }));
    },
  };
}

export type IndexMigrationRunner = ReturnType<typeof createIndexMigrationRunner>;

function assertSorted(migrations: readonly IndexMigration[]): void {
  const ids = migrations.map((m) => m.id);
  const sorted = [...ids].sort();
  if (ids.some((id, i) => id !== sorted[i]) || new Set(ids).size !== ids.length) {
    throw new Error(`Index migrations must have unique ids in ascending order, got ${ids.join(', ')}`);
  }
}
