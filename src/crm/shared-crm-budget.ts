/**
 * One CRM request budget for every worker process (#16, DESIGN.md §11.7): a `CrmRequestPacer`
 * over one MongoDB document (`db/crm-budget-repository.ts`). Hand-written rather than
 * rate-limiter-flexible's RateLimiterMongo, which keeps a fixed-window counter, queues callers per
 * process only and has no adaptive rate (/work/shared/RESEARCH-SCALE.md §1.1, §1.4).
 *
 * The rules, every one on the shared document:
 * - **Even spacing (GCRA)**: a request takes the next free slot (`$inc` of `next_slot_ms` by
 *   1000/rate) and waits until that time. After an idle spell the next slot is pulled up to
 *   `now − (burst − 1) × interval` (`$max`), so at most `burst` go at once; in any window W the
 *   fleet sends at most rate × W + burst. Slots are handed out in arrival order across processes.
 * - **Fair, round-robin**: a tenant holds at most one slot it has not used yet. A tenant's next
 *   request reserves only once its previous slot has come, so it queues behind every other
 *   tenant's waiting request: no tenant waits more than one round while another takes every
 *   slot. (One tenant's requests all come from one process — its run holds the CID lease — so
 *   the per-tenant turn lives in the process.)
 * - **Shared back-off**: a 429 cuts the rate × 0.7 (once per 5 s for the whole fleet: a
 *   compare-and-set on the last cut); a `Retry-After` pushes the next slot and a pause for every
 *   process to its end, and a request that waited for a slot the pause now covers takes a new one.
 * - **Additive increase**: a success 5 s after the last 429, cut and raise adds 5 % of the cap,
 *   never above it.
 * - **Store down**: a request that cannot reach the document goes (CRM still limits) and the
 *   failure is logged at most every 30 s; this process's own pauses still hold.
 */
import { createHash } from 'node:crypto';

import type { CrmBudgetRepository } from '../db/crm-budget-repository.js';
import type { CrmBudgetDoc } from '../db/documents.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CrmRequestContext, CrmRequestPacer } from './crm-request-pacer.js';
import { realSleep, type Sleeper } from './crm-retry.js';

/** CUBIC's β: the rate after a 429 is 0.7 of what it was. */
export const BUDGET_DECREASE_FACTOR = 0.7;
/** One cut per this long for the whole fleet: the 429s of requests already in flight say nothing new. */
export const BUDGET_CUT_COOLDOWN_MS = 5_000;
/** A raise needs this long without a 429, a cut or another raise. */
export const BUDGET_RAISE_EVERY_MS = 5_000;
/** Each raise adds this share of the cap. */
export const BUDGET_RAISE_STEP_OF_CAP = 0.05;
/** The rate never falls below this share of the cap: a budget keeps probing instead of stopping. */
export const BUDGET_FLOOR_OF_CAP = 0.05;
/** A store failure is logged at most this often (every request would hit it). */
const STORE_FAILURE_LOG_EVERY_MS = 30_000;

/** Hooks for metrics; never allowed to break a request. */
export interface CrmBudgetObserver {
  /** How long a request waited for its slot (turn, slot and pause), seconds. */
  waited?(seconds: number, context: CrmRequestContext): void;
  /** The shared rate as this process last read it, requests/s. */
  rate?(ratePerS: number): void;
  rateLimited?(context: CrmRequestContext | undefined): void;
}

export interface SharedCrmBudgetOptions {
  repo: CrmBudgetRepository;
  /** The budget document (`crmBudgetKey`): one per CRM token. */
  key: string;
  /** CRM_RATE_LIMIT_PER_S. */
  capPerS: number;
  /** CRM_BURST. */
  burst: number;
  logger: Logger;
  nowMs?: () => number;
  sleep?: Sleeper;
  observer?: CrmBudgetObserver;
}

export interface SharedCrmBudget extends CrmRequestPacer {
  readonly key: string;
  /** Creates or adopts the budget document; `acquire` does it on first use too. */
  start(): Promise<void>;
  /** Settles once the writes of earlier callbacks are done (tests, shutdown). */
  idle(): Promise<void>;
}

/** The budget a CRM token gets: CRMs count their limits per token, so one document per root URL and token. */
export function crmBudgetKey(rootUrl: string, auth: string | undefined): string {
  const digest = createHash('sha256')
    .update(`${rootUrl}\n${auth ?? ''}`)
    .digest('hex');
  return `crm:${digest.slice(0, 16)}`;
}

export function createSharedCrmBudget(options: SharedCrmBudgetOptions): SharedCrmBudget {
  const { repo, key, capPerS, burst } = options;
  const nowMs = options.nowMs ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const log = options.logger.child({ component: 'crm_budget', budget: key });
  const floorPerS = capPerS * BUDGET_FLOOR_OF_CAP;
  let seen: CrmBudgetDoc | null = null;
  let started: Promise<void> | null = null;
  /** This process's own knowledge of a pause, before (or without) the store. */
  let localPausedUntilMs = 0;
  const writes = new Set<Promise<void>>();
  const turns = new Map<string, Promise<void>>();
  let raising = false;
  let lastStoreFailureLogMs = -Infinity;

  const observe = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      log.warn({ err: toError(e) }, 'crm budget observer failed');
    }
  };
  const remember = (doc: CrmBudgetDoc) => {
    seen = doc;
    observe(() => options.observer?.rate?.(doc.rate_per_s));
  };
  const storeFailed = (e: unknown, what: string) => {
    const now = nowMs();
    if (now - lastStoreFailureLogMs < STORE_FAILURE_LOG_EVERY_MS) return;
    lastStoreFailureLogMs = now;
    log.warn({ err: toError(e), what }, 'crm budget store unreachable; requests go unpaced meanwhile');
  };
  const track = (write: Promise<void>) => {
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };

  function start(): Promise<void> {
    started ??= repo.ensure(key, { capPerS, burst }, nowMs()).then(remember, (e: unknown) => {
      started = null;
      throw e;
    });
    return started;
  }

  /** Waits for this tenant's previous request to reach its slot; returns the release of our turn. */
  async function takeTurn(cid: string, signal: AbortSignal | undefined): Promise<() => void> {
    const previous = turns.get(cid) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chain = previous.then(() => mine);
    turns.set(cid, chain);
    void chain.then(() => {
      if (turns.get(cid) === chain) turns.delete(cid);
    });
    try {
      await untilAborted(previous, signal);
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }

  /** One slot from the document: its time, ms. Rereads the spacing when the rate changed meanwhile. */
  async function reserve(): Promise<number> {
    await start();
    for (let tries = 0; ; tries++) {
      const current = seen ?? (await repo.get(key));
      if (!current) throw new Error(`crm budget ${key} is missing`);
      const interval = current.interval_ms;
      await repo.raiseSlotFloor(key, nowMs() - (burst - 1) * interval);
      const taken = await repo.takeSlot(key, interval);
      if (taken) {
        remember(taken.doc);
        return taken.slotMs;
      }
      // Another process cut or raised the rate between our read and our take: read it again.
      seen = await repo.get(key);
      if (tries > 20) throw new Error(`crm budget ${key}: the rate kept changing under 20 takes`);
    }
  }

  /** Sleeps until `slotMs` (or the end of a pause this process knows of); false when there was no wait. */
  async function waitFor(slotMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    const waitMs = Math.max(slotMs, localPausedUntilMs) - nowMs();
    if (waitMs <= 0) return false;
    await sleep(waitMs, signal);
    return true;
  }

  async function pausedNow(): Promise<boolean> {
    const shared = await repo.pausedUntil(key).catch((e: unknown) => {
      storeFailed(e, 'read the pause');
      return 0;
    });
    return Math.max(shared, localPausedUntilMs) > nowMs();
  }

  async function settleRateLimited(cid: string | null, now: number, pauseUntilMs: number | null) {
    const after = await repo.recordRateLimited(key, cid, now, pauseUntilMs);
    if (!after) return;
    remember(after);
    if (pauseUntilMs !== null) log.warn({ cid, pause_ms: pauseUntilMs - now }, 'crm_budget_pause');
    if (now - after.last_cut_at_ms < BUDGET_CUT_COOLDOWN_MS) return;
    const toRate = Math.max(floorPerS, after.rate_per_s * BUDGET_DECREASE_FACTOR);
    if (await repo.cut(key, after, toRate, now)) {
      log.warn(
        { from_per_s: after.rate_per_s, to_per_s: toRate, pause_until_ms: pauseUntilMs },
        'crm_budget_rate_cut',
      );
      remember({ ...after, rate_per_s: toRate, interval_ms: 1000 / toRate, last_cut_at_ms: now });
    }
  }

  async function settleRaise(doc: CrmBudgetDoc, now: number) {
    const toRate = Math.min(capPerS, doc.rate_per_s + capPerS * BUDGET_RAISE_STEP_OF_CAP);
    if (await repo.raise(key, doc, toRate, now, now - BUDGET_RAISE_EVERY_MS)) {
      log.info({ from_per_s: doc.rate_per_s, to_per_s: toRate }, 'crm_budget_rate_raised');
      remember({ ...doc, rate_per_s: toRate, interval_ms: 1000 / toRate, last_raise_at_ms: now });
    }
  }

  return {
    key,
    start,
    async idle() {
      while (writes.size > 0) await Promise.allSettled([...writes]);
    },

    async acquire(context, signal) {
      signal?.throwIfAborted();
      const startedMs = nowMs();
      const release = await takeTurn(context.cid, signal);
      try {
        // A 429 this process just reported must be in the store before we take a slot after it.
        await Promise.allSettled([...writes]);
        for (;;) {
          let slotMs: number;
          try {
            slotMs = await reserve();
          } catch (e) {
            storeFailed(e, 'take a slot');
            await waitFor(nowMs(), signal);
            break;
          }
          if (!(await waitFor(slotMs, signal))) break;
          // A pause that began while we slept (here or in another process) covers now: queue again.
          if (!(await pausedNow())) break;
        }
      } finally {
        release();
      }
      observe(() => options.observer?.waited?.((nowMs() - startedMs) / 1000, context));
    },

    onRateLimited(retryAfterMs, context) {
      const now = nowMs();
      const pauseUntilMs = retryAfterMs === null ? null : now + Math.max(0, retryAfterMs);
      if (pauseUntilMs !== null) localPausedUntilMs = Math.max(localPausedUntilMs, pauseUntilMs);
      observe(() => options.observer?.rateLimited?.(context));
      track(
        settleRateLimited(context?.cid ?? null, now, pauseUntilMs).catch((e: unknown) =>
          storeFailed(e, 'record a 429'),
        ),
      );
    },

    onSuccess() {
      const doc = seen;
      const now = nowMs();
      if (!doc || raising || doc.rate_per_s >= capPerS) return;
      const quietSince = Math.max(doc.last_raise_at_ms, doc.last_cut_at_ms, doc.last_rate_limited_at_ms);
      if (now - quietSince < BUDGET_RAISE_EVERY_MS) return;
      raising = true;
      track(
        settleRaise(doc, now)
          .catch((e: unknown) => storeFailed(e, 'raise the rate'))
          .finally(() => (raising = false)),
      );
    },
  };
}

/** Resolves with `done`, or rejects with the signal's reason once it aborts. */
function untilAborted(done: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return done;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(toError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    void done.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
