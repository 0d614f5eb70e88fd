/**
 * The shared CRM budget (#16) on the MongoDB test server: two budget instances on two MongoClients
 * stand for two worker processes (the e2e test runs two real ones). Spacing and fairness run on a
 * still clock with sleeps that record or wait for the test, so they show the slots themselves,
 * free of timers and round trips on a loaded machine; the Retry-After pause runs in real time.
 */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CrmRequestContext } from '../../../src/crm/crm-request-pacer.js';
import { createInProcessCrmPacer } from '../../../src/crm/crm-request-pacer.js';
import type { Sleeper } from '../../../src/crm/crm-retry.js';
import { FAKE_CRM_DEFAULT_AUTH } from '../../../src/crm/fake/fake-crm-server.js';
import { createHttpCrmNotesExtractor } from '../../../src/crm/http-crm-notes-extractor.js';
import {
  BUDGET_RAISE_EVERY_MS,
  createSharedCrmBudget,
  type SharedCrmBudget,
} from '../../../src/crm/shared-crm-budget.js';
import { createCrmBudgetRepository } from '../../../src/db/crm-budget-repository.js';
import { COLLECTIONS, type CrmBudgetDoc } from '../../../src/db/documents.js';
import { createSilentLogger } from '../../../src/logger.js';
import { withFakeCrm } from '../../helpers/fake-crm.js';
import { trackResource } from '../../helpers/leak-check.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const logger = createSilentLogger();
let second: MongoClient;

beforeAll(async () => {
  // A second connection pool: the budget's state must travel through the database, not memory.
  second = new MongoClient(t.uri, { ignoreUndefined: true });
  await second.connect();
  trackResource(
    'second Mongo client',
    () => open,
    () => second.close(),
    'file',
  );
});
let open = true;
afterAll(async () => {
  open = false;
  await second.close();
});

let keySeq = 0;
interface BudgetOptions {
  capPerS: number;
  burst: number;
  nowMs?: () => number;
  sleep?: Sleeper;
  /** A sleep per process ("a", "b"), to tell whose request sleeps towards which slot. */
  sleepOf?: (process: 'a' | 'b') => Sleeper;
}

function budgetsFor({ sleepOf, ...options }: BudgetOptions) {
  const key = `crm:test-${++keySeq}`;
  const make = (client: MongoClient, process: 'a' | 'b') =>
    createSharedCrmBudget({
      repo: createCrmBudgetRepository(client.db(t.dbName).collection<CrmBudgetDoc>(COLLECTIONS.crmBudgets)),
      key,
      logger,
      ...options,
      ...(sleepOf ? { sleep: sleepOf(process) } : {}),
    });
  return {
    key,
    a: make(t.client, 'a'),
    b: make(second, 'b'),
    doc: () => t.collections.crmBudgets.findOne({ _id: key }),
  };
}

const ctx = (cid: string): CrmRequestContext => ({ cid, kind: 'page' });

/** Resolves `n` acquires of `cid` on `budget` at once; returns the times they resolved. */
async function take(budget: SharedCrmBudget, cid: string, n: number, log: { cid: string; atMs: number }[]) {
  await Promise.all(
    Array.from({ length: n }, () => budget.acquire(ctx(cid)).then(() => log.push({ cid, atMs: Date.now() }))),
  );
}

/** A clock that stands still: a slot's wait is then exactly its distance from now, whatever the load. */
const STILL_NOW_MS = 5_000_000;

/** Sleeps that only record how long they were asked to sleep (every slot handed out, in no time). */
function recordingSleep(waitsMs: number[]): Sleeper {
  return (ms) => {
    waitsMs.push(ms);
    return Promise.resolve();
  };
}

/**
 * Sleeps that last until the test wakes them: with a still clock, who sleeps towards which slot
 * is the whole order of the budget, free of timers and database round trips.
 */
function gatedSleeps() {
  const sleeping: { process: 'a' | 'b'; ms: number; wake: () => void }[] = [];
  return {
    sleeping,
    sleepOf:
      (process: 'a' | 'b'): Sleeper =>
      (ms) =>
        new Promise<void>((wake) => sleeping.push({ process, ms, wake })),
    /** Wakes the sleeper of the earliest slot; its process. */
    wakeEarliest(): 'a' | 'b' | undefined {
      sleeping.sort((x, y) => x.ms - y.ms);
      const next = sleeping.shift();
      next?.wake();
      return next?.process;
    },
  };
}

const sleepers = (gate: ReturnType<typeof gatedSleeps>, n: number, what: string) =>
  waitFor(
    () => gate.sleeping.length,
    (count) => count >= n,
    { timeoutMs: 10_000, intervalMs: 5, what },
  );

/** The most acquires that resolved in any window of `windowMs` (each window starts at a grant). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((x, y) => x - y);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] ?? Infinity) < (sorted[i] ?? 0) + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('shared CRM budget: spacing', () => {
  it('hands concurrent takers of two processes evenly spaced slots: at most rate × window + burst in any window', async () => {
    const rate = 20;
    const burst = 3;
    const waitsMs: number[] = [];
    const { a, b } = budgetsFor({
      capPerS: rate,
      burst,
      nowMs: () => STILL_NOW_MS,
      sleep: recordingSleep(waitsMs),
    });
    const log: { cid: string; atMs: number }[] = [];
    await Promise.all([
      take(a, '1', 12, log),
      take(a, '2', 12, log),
      take(b, '3', 12, log),
      take(b, '4', 12, log),
    ]);
    expect(log).toHaveLength(48);
    // `burst` go at once (no wait); the other 45 wait 50, 100, … 2,250 ms: one slot per interval,
    // none handed out twice, none skipped. Wall-clock pace with real processes: test/e2e/rollout-wave.test.ts.
    expect(waitsMs.sort((x, y) => x - y)).toEqual(Array.from({ length: 48 - burst }, (_, i) => (i + 1) * 50));
    const slotsMs = [0, 0, 0, ...waitsMs];
    for (const windowMs of [100, 250, 500, 1_000, 2_000]) {
      expect(busiestWindow(slotsMs, windowMs), `${windowMs} ms window`).toBeLessThanOrEqual(
        Math.ceil((rate * windowMs) / 1000) + burst,
      );
    }
  });

  it('hands each of 40 concurrent takers of two processes its own slot, one interval apart', async () => {
    const { key } = budgetsFor({ capPerS: 10, burst: 1 });
    const repos = [t.client, second].map((client) =>
      createCrmBudgetRepository(client.db(t.dbName).collection<CrmBudgetDoc>(COLLECTIONS.crmBudgets)),
    );
    await repos[0]!.ensure(key, { capPerS: 10, burst: 1 }, 0);
    const slots = await Promise.all(
      Array.from({ length: 40 }, (_, i) => repos[i % 2]!.takeSlot(key, 100).then((s) => s?.slotMs)),
    );
    expect(slots.sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(Array.from({ length: 40 }, (_, i) => i * 100));
  });

  it('lets at most `burst` go at once after an idle spell, then spaces the rest', async () => {
    const waitsMs: number[] = [];
    const { a } = budgetsFor({
      capPerS: 2,
      burst: 3,
      nowMs: () => STILL_NOW_MS,
      sleep: recordingSleep(waitsMs),
    });
    await Promise.all(['1', '2', '3', '4', '5'].map((cid) => a.acquire(ctx(cid))));
    // Three went at once (no wait), then one every 500 ms.
    expect(waitsMs.sort((x, y) => x - y)).toEqual([500, 1_000]);
  });
});

describe('shared CRM budget: fairness', () => {
  it('gives a tenant that asks its slot within one round while another tenant has many requests queued', async () => {
    const gate = gatedSleeps();
    const { a, b } = budgetsFor({ capPerS: 10, burst: 1, nowMs: () => STILL_NOW_MS, sleepOf: gate.sleepOf });
    const log: { cid: string; atMs: number }[] = [];
    const greedy = take(a, '7001', 10, log);
    // Its first request went at once; its second sleeps towards the next slot, the other 8 queue.
    await sleepers(gate, 1, "the greedy tenant's second request asleep");
    const fair = take(b, '7002', 1, log);
    await sleepers(gate, 2, "the second tenant's request asleep");
    // The second tenant's slot is the very next one (200 ms), not after the greedy tenant's 8
    // queued requests (1,000 ms, as plain arrival order would have it).
    expect(gate.sleeping.map((x) => [x.process, x.ms])).toEqual([
      ['a', 100],
      ['b', 200],
    ]);
    await drain(gate, Promise.all([greedy, fair]));
    expect(log).toHaveLength(11);
  });

  it('alternates two busy tenants (round-robin), whatever their queue depth', async () => {
    const gate = gatedSleeps();
    const { a, b } = budgetsFor({ capPerS: 10, burst: 1, nowMs: () => STILL_NOW_MS, sleepOf: gate.sleepOf });
    const log: { cid: string; atMs: number }[] = [];
    const left = { a: 8, b: 3 };
    const done = Promise.all([take(a, '7101', left.a, log), take(b, '7102', left.b, log)]);
    const granted = (p: 'a' | 'b') => log.filter((g) => g.cid === (p === 'a' ? '7101' : '7102')).length;
    const woken: ('a' | 'b')[] = [];
    // Each time every tenant with requests left has one asleep towards its slot, wake the earliest.
    while (granted('b') < left.b) {
      await waitFor(
        () => gate.sleeping.map((x) => x.process),
        (asleep) => (['a', 'b'] as const).every((p) => granted(p) >= left[p] || asleep.includes(p)),
        { timeoutMs: 10_000, intervalMs: 5, what: 'every busy tenant asleep towards its slot' },
      );
      woken.push(gate.wakeEarliest()!);
    }
    await drain(gate, done);
    // While both had requests left, the slots went a, b, a, b, …: never one tenant twice in a row.
    const whileBoth = woken.slice(0, woken.lastIndexOf('b') + 1);
    for (let i = 1; i < whileBoth.length; i++)
      expect(whileBoth[i], woken.join(',')).not.toBe(whileBoth[i - 1]);
    expect(log).toHaveLength(11);
  });
});

/** Wakes sleepers, earliest slot first, until `done` settles. */
async function drain(gate: ReturnType<typeof gatedSleeps>, done: Promise<unknown>): Promise<void> {
  let settled = false;
  void done.finally(() => (settled = true));
  while (!settled) {
    if (!gate.wakeEarliest()) await new Promise((r) => setTimeout(r, 5));
  }
  await done;
}

describe('shared CRM budget: back-off and recovery', () => {
  it('cuts the shared rate × 0.7 once when both processes report 429s together', async () => {
    const { a, b, doc } = budgetsFor({ capPerS: 10, burst: 1 });
    await a.start();
    await b.start();
    a.onRateLimited(null, ctx('8001'));
    b.onRateLimited(null, ctx('8002'));
    a.onRateLimited(null, ctx('8001'));
    await Promise.all([a.idle(), b.idle()]);
    const after = await doc();
    expect(after).toMatchObject({ rate_per_s: 7, cuts_total: 1, rate_limited_total: 3 });
    expect(after?.rate_limited_by_cid).toEqual({ '8001': 2, '8002': 1 });
    expect(after?.interval_ms).toBeCloseTo(1000 / 7, 6);
  });

  it('pauses every taker of both processes for a Retry-After, sleepers included, then goes on', async () => {
    const PAUSE_MS = 800;
    /** A grant already past its pause check when the pause reaches the store may land this much later. */
    const SLACK_MS = 100;
    const { a, b } = budgetsFor({ capPerS: 20, burst: 1 });
    const log: { cid: string; atMs: number }[] = [];
    // Process A has requests sleeping towards slots when process B gets the 429.
    const queued = Promise.all([take(a, '8101', 6, log), take(a, '8102', 6, log)]);
    while (log.length < 2) await new Promise((r) => setTimeout(r, 5));
    const calledAt = Date.now();
    b.onRateLimited(PAUSE_MS, ctx('8103'));
    await b.idle();
    // The pause holds for every process from the moment the store has it.
    const recordedAt = Date.now();
    const later = take(b, '8103', 3, log);
    await Promise.all([queued, later]);
    const pauseEnd = calledAt + PAUSE_MS;
    const offsets = JSON.stringify({
      recorded: recordedAt - calledAt,
      grants: log.map((g) => g.atMs - calledAt),
    });
    expect(
      log.filter((g) => g.atMs > recordedAt + SLACK_MS && g.atMs < pauseEnd),
      offsets,
    ).toEqual([]);
    const after = log.filter((g) => g.atMs >= pauseEnd);
    expect(log.filter((g) => g.atMs <= recordedAt + SLACK_MS).length + after.length, offsets).toBe(15);
    // B's requests, and A's still queued or asleep when the pause came, all went after it.
    expect(
      after.filter((g) => g.cid === '8103'),
      offsets,
    ).toHaveLength(3);
    expect(after.filter((g) => g.cid !== '8103').length, offsets).toBeGreaterThanOrEqual(6);
  });

  it('raises the rate by 5 % of the cap per quiet 5 s, never above the cap, and a 429 restarts the quiet spell', async () => {
    let now = 1_000_000;
    const { a, doc } = budgetsFor({ capPerS: 20, burst: 1, nowMs: () => now });
    await a.start();
    a.onRateLimited(null, ctx('8201'));
    await a.idle();
    expect((await doc())?.rate_per_s).toBe(14);
    const rateAfterSuccess = async () => {
      a.onSuccess(ctx('8201'));
      await a.idle();
      return (await doc())?.rate_per_s;
    };
    expect(await rateAfterSuccess()).toBe(14); // not 5 s quiet yet
    now += BUDGET_RAISE_EVERY_MS;
    expect(await rateAfterSuccess()).toBe(15);
    expect(await rateAfterSuccess()).toBe(15); // one raise per 5 s
    now += BUDGET_RAISE_EVERY_MS - 1;
    expect(await rateAfterSuccess()).toBe(15);
    now += 1;
    expect(await rateAfterSuccess()).toBe(16);
    // A 429 a second later cuts again (the cooldown has passed) and restarts the quiet spell.
    now += 1_000;
    a.onRateLimited(null, ctx('8201'));
    await a.idle();
    expect((await doc())?.rate_per_s).toBeCloseTo(11.2, 9);
    // Within the cooldown another 429 counts and restarts the quiet spell, but does not cut.
    now += 100;
    a.onRateLimited(null, ctx('8201'));
    await a.idle();
    expect(await doc()).toMatchObject({ cuts_total: 2, rate_limited_total: 3 });
    now += BUDGET_RAISE_EVERY_MS - 1;
    expect(await rateAfterSuccess()).toBeCloseTo(11.2, 9);
    now += 1;
    expect(await rateAfterSuccess()).toBeCloseTo(12.2, 9);
    for (let i = 0; i < 20; i++) {
      now += BUDGET_RAISE_EVERY_MS;
      await rateAfterSuccess();
    }
    expect((await doc())?.rate_per_s).toBe(20);
    expect((await doc())?.interval_ms).toBe(50);
  });

  it('lets requests go when the store cannot be reached (CRM still limits), and says so once', async () => {
    const lonely = new MongoClient(t.uri);
    await lonely.connect();
    const budget = createSharedCrmBudget({
      repo: createCrmBudgetRepository(lonely.db(t.dbName).collection<CrmBudgetDoc>(COLLECTIONS.crmBudgets)),
      key: 'crm:closed',
      capPerS: 1,
      burst: 1,
      logger,
    });
    await lonely.close();
    const started = Date.now();
    await budget.acquire(ctx('8301'));
    await budget.acquire(ctx('8301'));
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('shared CRM budget through the CRM client, against the fake CRM over HTTP', () => {
  const tenants = [1, 2, 3, 4].map((i) => ({
    cid: String(8400 + i),
    companySsoId: `co-84${i}`,
    noteCount: 200,
    seed: i,
    preset: 'clean' as const,
  }));
  const behaviour = {
    preset: 'instant' as const,
    latency: { baseMs: 20, sigma: 0 },
    rateLimit: { windowMs: 2_000, windowLimit: 40, perSecondLimit: 0 },
  };

  async function pageAll(
    pacerFor: (process: number) => ReturnType<typeof createInProcessCrmPacer> | SharedCrmBudget,
  ) {
    return withFakeCrm({ tenants, behaviour }, async (fake) => {
      const extractors = [0, 1].map((p) =>
        createHttpCrmNotesExtractor({
          rootUrl: fake.url,
          auth: FAKE_CRM_DEFAULT_AUTH,
          timeoutMs: 5_000,
          maxRetryAfterMs: 5_000,
          logger,
          pacer: pacerFor(p),
        }),
      );
      // Two "processes", two tenants each, all of a tenant's 15 pages asked at once: 60 requests.
      await Promise.all(
        tenants.map((tenant, i) =>
          Promise.all(
            Array.from({ length: 15 }, (_, page) =>
              extractors[i % 2]!.listPersonNotes(tenant.cid, page + 1, 10),
            ),
          ),
        ),
      );
      return fake.counters();
    });
  }

  it('keeps two extractors under the CRM limit (40 per 2 s) with no 429 when the budget is set below it', async () => {
    // 0.8 of the limit: the fake CRM shares this process's event loop, so a stall of the loop
    // bunches arrivals at the fake (the e2e test runs the fake and the workers as processes).
    const { a, b } = budgetsFor({ capPerS: 16, burst: 1 });
    const counters = await pageAll((p) => (p === 0 ? a : b));
    expect(counters.ok).toBe(60);
    expect(counters.rateLimited, JSON.stringify(counters)).toBe(0);
  });

  it('meets 429s without it (each process paces only itself): the problem the budget solves', async () => {
    const counters = await pageAll(() => createInProcessCrmPacer());
    expect(counters.ok).toBe(60);
    expect(counters.rateLimited).toBeGreaterThan(0);
  });

  it('backs off together when the budget is set above the CRM limit: a few 429s, a lower shared rate', async () => {
    // 100/s against 40 per 2 s: 429s even when a loaded machine slows the takers down.
    const { a, b, doc } = budgetsFor({ capPerS: 100, burst: 1 });
    const counters = await pageAll((p) => (p === 0 ? a : b));
    await Promise.all([a.idle(), b.idle()]);
    expect(counters.ok).toBe(60);
    const after = await doc();
    expect(after?.rate_limited_total).toBe(counters.rateLimited);
    expect(after?.cuts_total).toBeGreaterThanOrEqual(1);
    expect(after?.rate_per_s).toBeLessThan(100);
    expect(after?.pauses_total).toBeGreaterThanOrEqual(1);
  });
});
