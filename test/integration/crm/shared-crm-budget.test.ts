/**
 * The shared CRM budget (#16) on the MongoDB test server: two budget instances on two MongoClients
 * stand for two worker processes (the e2e test runs two real ones). Real time, small intervals:
 * what is checked is when `acquire` resolves — the moment a request may go out — except where a
 * still clock shows the slots themselves (burst, recovery).
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
function budgetsFor(options: { capPerS: number; burst: number; nowMs?: () => number; sleep?: Sleeper }) {
  const key = `crm:test-${++keySeq}`;
  const make = (client: MongoClient) =>
    createSharedCrmBudget({
      repo: createCrmBudgetRepository(client.db(t.dbName).collection<CrmBudgetDoc>(COLLECTIONS.crmBudgets)),
      key,
      logger,
      ...options,
    });
  return {
    key,
    a: make(t.client),
    b: make(second),
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
  it('never lets concurrent takers of two processes exceed rate × window + burst (timer slack: one)', async () => {
    const rate = 20;
    const burst = 3;
    const { a, b } = budgetsFor({ capPerS: rate, burst });
    const log: { cid: string; atMs: number }[] = [];
    const started = Date.now();
    await Promise.all([
      take(a, '1', 12, log),
      take(a, '2', 12, log),
      take(b, '3', 12, log),
      take(b, '4', 12, log),
    ]);
    const times = log.map((g) => g.atMs);
    for (const windowMs of [100, 250, 500, 1_000, 2_000]) {
      expect(busiestWindow(times, windowMs), `${windowMs} ms window`).toBeLessThanOrEqual(
        Math.floor((rate * windowMs) / 1000) + burst + 1,
      );
    }
    // And it does not hold back either: 48 slots at 20/s after a burst of 3 take ~2.25 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(((48 - burst) / rate) * 1000 - 100);
    expect(Date.now() - started).toBeLessThan(((48 - burst) / rate) * 1000 + 2_000);
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
    // A clock that stands still and a sleep that only records: the slots handed out, free of how
    // long the database round trips take on a loaded machine.
    const waitsMs: number[] = [];
    const { a } = budgetsFor({
      capPerS: 2,
      burst: 3,
      nowMs: () => 5_000_000,
      sleep: (ms) => {
        waitsMs.push(ms);
        return Promise.resolve();
      },
    });
    await Promise.all(['1', '2', '3', '4', '5'].map((cid) => a.acquire(ctx(cid))));
    // Three went at once (no wait), then one every 500 ms.
    expect(waitsMs.sort((x, y) => x - y)).toEqual([500, 1_000]);
  });
});

describe('shared CRM budget: fairness', () => {
  it('gives a tenant that asks its slot within one round while another tenant has many requests queued', async () => {
    // 200 ms slots: longer than a database round trip even on a loaded machine.
    const { a, b } = budgetsFor({ capPerS: 5, burst: 1 });
    const log: { cid: string; atMs: number }[] = [];
    const greedy = take(a, '7001', 10, log);
    // Once the greedy tenant is being served, a second tenant (another process) asks once.
    while (log.length < 2) await new Promise((r) => setTimeout(r, 5));
    const askedAt = log.length;
    await take(b, '7002', 1, log);
    await greedy;
    const answeredAt = log.findIndex((g) => g.cid === '7002');
    // With plain arrival order it would wait for the 8 queued slots of the greedy tenant.
    expect(answeredAt - askedAt).toBeLessThanOrEqual(1);
  });

  it('alternates two busy tenants (round-robin), whatever their queue depth', async () => {
    const { a, b } = budgetsFor({ capPerS: 10, burst: 1 });
    const log: { cid: string; atMs: number }[] = [];
    await Promise.all([take(a, '7101', 8, log), take(b, '7102', 3, log)]);
    const order = log.map((g) => g.cid);
    // While both have requests waiting, neither gets more than two slots in a row (one round, plus
    // at most one slot taken during the other's database round trip).
    const lastOf7102 = order.lastIndexOf('7102');
    let run = 1;
    for (let i = 1; i <= lastOf7102; i++) {
      run = order[i] === order[i - 1] ? run + 1 : 1;
      expect(run, order.join(',')).toBeLessThanOrEqual(2);
    }
    expect(lastOf7102, order.join(',')).toBeLessThanOrEqual(6);
  });
});

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
    const { a, b } = budgetsFor({ capPerS: 20, burst: 1 });
    const log: { cid: string; atMs: number }[] = [];
    // Process A has requests sleeping towards slots when process B gets the 429.
    const queued = Promise.all([take(a, '8101', 6, log), take(a, '8102', 6, log)]);
    while (log.length < 2) await new Promise((r) => setTimeout(r, 5));
    const pausedAt = Date.now();
    b.onRateLimited(800, ctx('8103'));
    await b.idle();
    const later = take(b, '8103', 3, log);
    await Promise.all([queued, later]);
    const duringPause = log.filter((g) => g.atMs > pausedAt + 60 && g.atMs < pausedAt + 800);
    expect(duringPause, JSON.stringify(log.map((g) => g.atMs - pausedAt))).toEqual([]);
    expect(log).toHaveLength(15);
    expect(log.filter((g) => g.atMs >= pausedAt + 800)).toHaveLength(13);
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
    const { a, b, doc } = budgetsFor({ capPerS: 40, burst: 1 });
    const counters = await pageAll((p) => (p === 0 ? a : b));
    await Promise.all([a.idle(), b.idle()]);
    expect(counters.ok).toBe(60);
    const after = await doc();
    expect(after?.rate_limited_total).toBe(counters.rateLimited);
    expect(after?.cuts_total).toBeGreaterThanOrEqual(1);
    expect(after?.rate_per_s).toBeLessThan(40);
    expect(after?.pauses_total).toBeGreaterThanOrEqual(1);
  });
});
