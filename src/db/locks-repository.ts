/**
 * `migration_locks`: the per-CID lock document (DESIGN.md §3). Only `_id` uniqueness is relied
 * on, so it works on any MongoDB-compatible server. The trigger inserts it `queued`; a worker
 * claims it (`epoch + 1`), renews the lease on a heartbeat and deletes it at a terminal status.
 * Times are the caller's clock: keep worker clocks in sync (NTP) — skew shortens or lengthens leases.
 */
import type { Collection } from 'mongodb';

import type { LockDoc } from './documents.js';
import { isDuplicateKeyError } from './mongo-errors.js';

export type InsertLockResult =
  { acquired: true; lock: LockDoc } | { acquired: false; existing: LockDoc | null };

export interface ClaimLease {
  cid: string;
  runId: string;
  owner: string;
  leaseMs: number;
  now: Date;
}

export interface LocksRepository {
  /** Inserts a `queued` lock for a new run; on a duplicate `_id` returns the lock that holds the CID. */
  insertQueued(cid: string, runId: string, expiresAt: Date, now: Date): Promise<InsertLockResult>;
  /** Atomically hands a stale lock (still held by `staleRunId`) to a new run. Null = someone else won. */
  replaceStale(
    cid: string,
    staleRunId: string,
    runId: string,
    expiresAt: Date,
    now: Date,
  ): Promise<LockDoc | null>;
  /** Pushes a queued lock's expiry (after its job is safely enqueued). */
  extendQueued(cid: string, runId: string, expiresAt: Date, now: Date): Promise<boolean>;
  /** A worker takes the lock for its run when it is queued or its lease has expired; epoch + 1. */
  claim(lease: ClaimLease): Promise<LockDoc | null>;
  /** Heartbeat: extends the lease only while this worker still holds this epoch. */
  renew(cid: string, runId: string, epoch: number, leaseMs: number, now: Date): Promise<boolean>;
  /** Ends this worker's lease now (shutdown hand-off): any worker may claim the lock at once. */
  expire(cid: string, runId: string, epoch: number, now: Date): Promise<boolean>;
  /** Deletes the lock when it is still this worker's (run and epoch). */
  release(cid: string, runId: string, epoch: number): Promise<boolean>;
  /** Deletes a lock that was never claimed (trigger rollback, lost job). */
  releaseQueued(cid: string, runId: string): Promise<boolean>;
  get(cid: string): Promise<LockDoc | null>;
}

export function createLocksRepository(collection: Collection<LockDoc>): LocksRepository {
  return {
    async insertQueued(cid, runId, expiresAt, now) {
      const lock: LockDoc = {
        _id: cid,
        run_id: runId,
        state: 'queued',
        owner: null,
        epoch: 0,
        expires_at: expiresAt,
        created_at: now,
        updated_at: now,
      };
      try {
        await collection.insertOne(lock);
        return { acquired: true, lock };
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
        return { acquired: false, existing: await collection.findOne({ _id: cid }) };
      }
    },

    replaceStale: (cid, staleRunId, runId, expiresAt, now) =>
      collection.findOneAndUpdate(
        { _id: cid, run_id: staleRunId },
        {
          $set: {
            run_id: runId,
            state: 'queued',
            owner: null,
            expires_at: expiresAt,
            created_at: now,
            updated_at: now,
          },
          // Epochs only ever grow for a CID, so no token from an older holder can match again.
          $inc: { epoch: 1 },
        },
        { returnDocument: 'after' },
      ),

    async extendQueued(cid, runId, expiresAt, now) {
      const r = await collection.updateOne(
        { _id: cid, run_id: runId, state: 'queued' },
        { $set: { expires_at: expiresAt, updated_at: now } },
      );
      return r.matchedCount === 1;
    },

    claim: ({ cid, runId, owner, leaseMs, now }) =>
      collection.findOneAndUpdate(
        { _id: cid, run_id: runId, $or: [{ state: 'queued' }, { expires_at: { $lte: now } }] },
        {
          $set: { state: 'running', owner, expires_at: new Date(now.getTime() + leaseMs), updated_at: now },
          $inc: { epoch: 1 },
        },
        { returnDocument: 'after' },
      ),

    async renew(cid, runId, epoch, leaseMs, now) {
      const r = await collection.updateOne(
        { _id: cid, run_id: runId, epoch },
        { $set: { expires_at: new Date(now.getTime() + leaseMs), updated_at: now } },
      );
      return r.matchedCount === 1;
    },

    async expire(cid, runId, epoch, now) {
      const r = await collection.updateOne(
        { _id: cid, run_id: runId, epoch },
        { $set: { expires_at: now, owner: null, updated_at: now } },
      );
      return r.matchedCount === 1;
    },

    async release(cid, runId, epoch) {
      return (await collection.deleteOne({ _id: cid, run_id: runId, epoch })).deletedCount === 1;
    },

    async releaseQueued(cid, runId) {
      return (await collection.deleteOne({ _id: cid, run_id: runId, state: 'queued' })).deletedCount === 1;
    },

    get: (cid) => collection.findOne({ _id: cid }),
  };
}
