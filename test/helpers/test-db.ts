/**
 * A fresh database per test file (STYLE.md "Tests"): `cnm_test_<file-slug>_<random>`, dropped
 * after a passing file, kept (and its name printed) when a test failed or KEEP_TEST_DB=1.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Db, MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';

import { INDEX_MIGRATIONS } from '../../migrations/index.js';
import { createIndexMigrationRunner } from '../../src/db/index-migrations.js';
import { type Collections, getCollections } from '../../src/db/mongo-client.js';
import { createRepositories, type Repositories } from '../../src/db/repositories.js';

export interface TestDb {
  readonly uri: string;
  readonly client: MongoClient;
  readonly db: Db;
  readonly dbName: string;
  /** The URI with this file's database in its path, for child processes. */
  readonly dbUri: string;
  readonly collections: Collections;
  readonly repos: Repositories;
}

export function useTestDb(fileUrl: string, options: { migrate?: boolean } = {}): TestDb {
  const slug = path
    .basename(fileURLToPath(fileUrl))
    .replace(/\.test\.ts$/, '')
    .replace(/[^a-z0-9]+/gi, '_')
    .slice(0, 30);
  const dbName = `cnm_test_${slug}_${randomBytes(3).toString('hex')}`;
  let client: MongoClient | undefined;
  let failed = false;
  const uri = inject('mongoUri');

  beforeAll(async () => {
    client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, ignoreUndefined: true });
    await client.connect();
    if (options.migrate !== false) await createIndexMigrationRunner(client.db(dbName), INDEX_MIGRATIONS).up();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    if (!client) return;
    if (failed || process.env.KEEP_TEST_DB === '1') {
      process.stdout.write(`kept test database ${dbName} (${failed ? 'a test failed' : 'KEEP_TEST_DB=1'})\n`);
    } else {
      await client.db(dbName).dropDatabase();
    }
    await client.close();
  });

  const need = () => {
    if (!client) throw new Error('useTestDb: used outside a test (beforeAll has not run)');
    return client;
  };
  return {
    uri,
    get client() {
      return need();
    },
    get db() {
      return need().db(dbName);
    },
    dbName,
    get dbUri() {
      const u = new URL(uri);
      u.pathname = `/${dbName}`;
      return u.toString();
    },
    get collections() {
      return getCollections(need().db(dbName));
    },
    get repos() {
      return createRepositories(need().db(dbName));
    },
  };
}
