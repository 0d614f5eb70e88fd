/**
 * One MongoClient per process, and the typed collection handles built on it. Connecting pings
 * the server so a wrong URI fails at start-up with a readable message, not at the first query.
 */
import { type Collection, type Db, MongoClient } from 'mongodb';

import { AppError, toError } from '../errors.js';
import {
  COLLECTIONS,
  type ContactDoc,
  type ContactNoteDoc,
  type FailureDoc,
  type FeatureFlagDoc,
  type LockDoc,
  type RunDoc,
  type RunScratchDoc,
  type SchemaMigrationDoc,
  type UserDoc,
} from './documents.js';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export interface ConnectMongoOptions {
  uri: string;
  /** Used when the URI names no database. */
  dbName: string;
  appName?: string;
  serverSelectionTimeoutMs?: number;
}

export async function connectMongo(options: ConnectMongoOptions): Promise<MongoConnection> {
  const client = new MongoClient(options.uri, {
    appName: options.appName ?? 'crm-notes-migrator',
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
    retryWrites: true,
    retryReads: true,
    // Agenda reads undefined fields back as null only when they are stored; keep undefined out.
    ignoreUndefined: true,
  });
  try {
    await client.connect();
    const db = client.db(dbNameFromUri(options.uri) ?? options.dbName);
    await db.command({ ping: 1 });
    return { client, db, close: () => client.close() };
  } catch (e) {
    await client.close().catch(() => undefined);
    throw new AppError(
      'CONFIG_INVALID',
      `Cannot reach MongoDB at ${redactUri(options.uri)}: ${toError(e).message}`,
      {
        cause: e,
      },
    );
  }
}

function dbNameFromUri(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri);
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

/** The URI with any password replaced, safe for logs and error messages. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:[redacted]@');
}

export interface Collections {
  contactNotes: Collection<ContactNoteDoc>;
  contacts: Collection<ContactDoc>;
  users: Collection<UserDoc>;
  featureFlags: Collection<FeatureFlagDoc>;
  runs: Collection<RunDoc>;
  locks: Collection<LockDoc>;
  failures: Collection<FailureDoc>;
  schemaMigrations: Collection<SchemaMigrationDoc>;
  runScratch: Collection<RunScratchDoc>;
}

export function getCollections(db: Db): Collections {
  return {
    contactNotes: db.collection<ContactNoteDoc>(COLLECTIONS.contactNotes),
    contacts: db.collection<ContactDoc>(COLLECTIONS.contacts),
    users: db.collection<UserDoc>(COLLECTIONS.users),
    featureFlags: db.collection<FeatureFlagDoc>(COLLECTIONS.featureFlags),
    runs: db.collection<RunDoc>(COLLECTIONS.runs),
    locks: db.collection<LockDoc>(COLLECTIONS.locks),
    failures: db.collection<FailureDoc>(COLLECTIONS.failures),
    schemaMigrations: db.collection<SchemaMigrationDoc>(COLLECTIONS.schemaMigrations),
    runScratch: db.collection<RunScratchDoc>(COLLECTIONS.runScratch),
  };
}
