/**
 * `crm_budgets`: the shared CRM request budget (#16). Every change is one atomic single-document
 * update with classic operators (`$max`, `$inc`, `$set` under a compare-and-set filter), so it
 * works on any MongoDB-compatible server; the decisions (how long to wait, when to cut or raise
 * the rate) are the pacer's (`crm/shared-crm-budget.ts`).
 */
import type { Collection } from 'mongodb';

import { setOwn } from '../own-properties.js';
import type { CrmBudgetDoc } from './documents.js';

export interface CrmBudgetSettings {
  capPerS: number;
  burst: number;
}

export interface CrmBudgetRepository {
  /**
   * Creates the budget at its cap, or adopts this process's cap and burst for an existing one
   * (lowering a rate above the new cap). Returns the document.
   */
  ensure(key: string, settings: CrmBudgetSettings, nowMs: number): Promise<CrmBudgetDoc>;
  get(key: string): Promise<CrmBudgetDoc | null>;
  /** An idle budget lets the next takers go at once: the next slot is never earlier than this. */
  raiseSlotFloor(key: string, floorMs: number): Promise<void>;
  /**
   * Takes the next slot while the spacing is still `intervalMs`: the slot's time and the document
   * after the take, or null when the rate changed meanwhile (read it again).
   */
  takeSlot(key: string, intervalMs: number): Promise<{ slotMs: number; doc: CrmBudgetDoc } | null>;
  /** When the current `Retry-After` pause of every process ends (0 = none). */
  pausedUntil(key: string): Promise<number>;
  /**
   * Counts a 429 (for `cid`, a CID of digits) and, with a `Retry-After`, pushes the next slot and
   * the pause to `pauseUntilMs` for every process. Returns the document after the update.
   */
  recordRateLimited(
    key: string,
    cid: string | null,
    nowMs: number,
    pauseUntilMs: number | null,
  ): Promise<CrmBudgetDoc | null>;
  /**
   * Multiplicative decrease: only while the rate and the last cut are still what the caller saw,
   * so concurrent 429s of every process make one cut. True when this call made it.
   */
  cut(
    key: string,
    seen: Pick<CrmBudgetDoc, 'rate_per_s' | 'last_cut_at_ms'>,
    toRate: number,
    nowMs: number,
  ): Promise<boolean>;
  /**
   * Additive increase: only while the rate and the last raise are what the caller saw and no 429
   * came since `quietSinceMs`. True when this call made it.
   */
  raise(
    key: string,
    seen: Pick<CrmBudgetDoc, 'rate_per_s' | 'last_raise_at_ms'>,
    toRate: number,
    nowMs: number,
    quietSinceMs: number,
  ): Promise<boolean>;
}

/** A CID becomes part of a field path (`rate_limited_by_cid.<cid>`): digits only, or not counted by CID. */
const CID_KEY = /^[0-9]{1,19}$/;

export function createCrmBudgetRepository(collection: Collection<CrmBudgetDoc>): CrmBudgetRepository {
  return {
    async ensure(key, { capPerS, burst }, nowMs) {
      const now = new Date(nowMs);
      await collection.updateOne(
        { _id: key },
        {
          $set: { cap_per_s: capPerS, burst, updated_at: now },
          $setOnInsert: {
            // Start at the cap: the operator's figure is trusted until the CRM says otherwise.
            rate_per_s: capPerS,
            interval_ms: 1000 / capPerS,
            next_slot_ms: 0,
            paused_until_ms: 0,
            last_cut_at_ms: 0,
            last_raise_at_ms: 0,
            last_rate_limited_at_ms: 0,
            requests_total: 0,
            rate_limited_total: 0,
            rate_limited_by_cid: {},
            cuts_total: 0,
            raises_total: 0,
            pauses_total: 0,
            created_at: now,
          },
        },
        { upsert: true },
      );
      await collection.updateOne(
        { _id: key, rate_per_s: { $gt: capPerS } },
        { $set: { rate_per_s: capPerS, interval_ms: 1000 / capPerS, updated_at: now } },
      );
      const doc = await collection.findOne({ _id: key });
      if (!doc) throw new Error(`crm budget ${key} vanished right after it was written`);
      return doc;
    },

    get: (key) => collection.findOne({ _id: key }),

    async raiseSlotFloor(key, floorMs) {
      await collection.updateOne({ _id: key }, { $max: { next_slot_ms: floorMs } });
    },

    async takeSlot(key, intervalMs) {
      // The slot is read off the document *after* the `$inc`: SecantusDB (the test server) can
      // return the same pre-image to concurrent callers of `returnDocument: 'before'` (measured: 70
      // of 100 rounds of 8 racers), which would hand one slot out twice; the post-image is the
      // update's own result on every server.
      const doc = await collection.findOneAndUpdate(
        { _id: key, interval_ms: intervalMs },
        { $inc: { next_slot_ms: intervalMs, requests_total: 1 } },
        { returnDocument: 'after' },
      );
      return doc ? { slotMs: doc.next_slot_ms - intervalMs, doc } : null;
    },

    async pausedUntil(key) {
      const doc = await collection.findOne({ _id: key }, { projection: { paused_until_ms: 1 } });
      return doc?.paused_until_ms ?? 0;
    },

    recordRateLimited(key, cid, nowMs, pauseUntilMs) {
      const inc: Record<string, number> = { rate_limited_total: 1 };
      if (cid !== null && CID_KEY.test(cid)) setOwn(inc, `rate_limited_by_cid.${cid}`, 1);
      if (pauseUntilMs !== null) inc.pauses_total = 1;
      return collection.findOneAndUpdate(
        { _id: key },
        {
          $inc: inc,
          $max: {
            last_rate_limited_at_ms: nowMs,
            ...(pauseUntilMs === null ? {} : { paused_until_ms: pauseUntilMs, next_slot_ms: pauseUntilMs }),
          },
          $set: { updated_at: new Date(nowMs) },
        },
        { returnDocument: 'after' },
      );
    },

    async cut(key, seen, toRate, nowMs) {
      const r = await collection.updateOne(
        { _id: key, rate_per_s: seen.rate_per_s, last_cut_at_ms: seen.last_cut_at_ms },
        {
          $set: {
            rate_per_s: toRate,
            interval_ms: 1000 / toRate,
            last_cut_at_ms: nowMs,
            updated_at: new Date(nowMs),
          },
          $inc: { cuts_total: 1 },
        },
      );
      return r.modifiedCount === 1;
    },

    async raise(key, seen, toRate, nowMs, quietSinceMs) {
      const r = await collection.updateOne(
        {
          _id: key,
          rate_per_s: seen.rate_per_s,
          last_raise_at_ms: seen.last_raise_at_ms,
          last_rate_limited_at_ms: { $lte: quietSinceMs },
          last_cut_at_ms: { $lte: quietSinceMs },
        },
        {
          $set: {
            rate_per_s: toRate,
            interval_ms: 1000 / toRate,
            last_raise_at_ms: nowMs,
            updated_at: new Date(nowMs),
          },
          $inc: { raises_total: 1 },
        },
      );
      return r.modifiedCount === 1;
    },
  };
}
