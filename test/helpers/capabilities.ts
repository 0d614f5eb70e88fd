/**
 * What the MongoDB-wire server under test can do, measured once at start-up. A test that needs a
 * missing capability skips with the capability in its title (docs/testing.md lists them).
 */
import type { MongoClient } from 'mongodb';

import { probeChangeStreams } from '../../src/db/change-stream-probe.js';

export interface Capabilities {
  /** Partial unique index honoured: documents outside the filter never collide. */
  partialUniqueIndexes: boolean;
  /** Change streams deliver insert and findOneAndUpdate events. */
  changeStreams: boolean;
  /** Sessions and multi-document transactions. */
  transactions: boolean;
  /** `explain()` reports the index a query uses. */
  explain: boolean;
  reasons: Record<string, string>;
}

export async function probeCapabilities(client: MongoClient): Promise<Capabilities> {
  const db = client.db(`cnm_caps_${process.pid}_${Date.now()}`);
  const reasons: Record<string, string> = {};
  try {
    const partialUniqueIndexes = await probePartialUnique(db, reasons);
    const cs = await probeChangeStreams(db);
    reasons.changeStreams = cs.reason;
    const transactions = await probeTransactions(client, db, reasons);
    const explain = await probeExplain(db, reasons);
    return { partialUniqueIndexes, changeStreams: cs.ok, transactions, explain, reasons };
  } finally {
    await db.dropDatabase().catch(() => undefined);
  }
}

async function probePartialUnique(db: ReturnType<MongoClient['db']>, reasons: Record<string, string>) {
  const c = db.collection('partial');
  try {
    await c.createIndex({ a: 1, b: 1 }, { unique: true, partialFilterExpression: { b: { $exists: true } } });
    await c.insertOne({ a: 1 });
    await c.insertOne({ a: 1 });
  } catch (e) {
    reasons.partialUniqueIndexes = `two documents outside the partial filter collided: ${(e as Error).message}`;
    return false;
  }
  try {
    await c.insertOne({ a: 1, b: 1 });
    await c.insertOne({ a: 1, b: 1 });
    reasons.partialUniqueIndexes = 'duplicate inside the partial filter was accepted';
    return false;
  } catch {
    reasons.partialUniqueIndexes = 'enforced inside the filter, ignored outside it';
    return true;
  }
}

async function probeTransactions(
  client: MongoClient,
  db: ReturnType<MongoClient['db']>,
  reasons: Record<string, string>,
) {
  const session = client.startSession();
  try {
    session.startTransaction();
    await db.collection('txn').insertOne({ x: 1 }, { session });
    await session.abortTransaction();
    const visible = await db.collection('txn').countDocuments({ x: 1 });
    reasons.transactions = visible === 0 ? 'abort discarded the write' : 'abort left the write visible';
    return visible === 0;
  } catch (e) {
    reasons.transactions = `transactions unavailable: ${(e as Error).message}`;
    return false;
  } finally {
    await session.endSession();
  }
}

async function probeExplain(db: ReturnType<MongoClient['db']>, reasons: Record<string, string>) {
  const c = db.collection('explain');
  try {
    await c.createIndex({ k: 1 }, { name: 'k_probe' });
    await c.insertOne({ k: 1 });
    const plan = JSON.stringify(await c.find({ k: 1 }).explain('queryPlanner'));
    const ok = plan.includes('k_probe') && plan.includes('IXSCAN');
    reasons.explain = ok ? 'explain names the index used' : 'explain does not report the index used';
    return ok;
  } catch (e) {
    reasons.explain = `explain failed: ${(e as Error).message}`;
    return false;
  }
}
