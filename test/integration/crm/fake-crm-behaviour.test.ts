/**
 * The fake CRM's server behaviour (#15) over a real port: latency, rate limit, concurrency cap,
 * determinism and the counters endpoint. A manual clock drives every wait: no test sleeps.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { resolveFakeCrmBehaviour } from '../../../src/crm/fake/fake-crm-behaviour.js';
import { fakeCrmTokenLabel } from '../../../src/crm/fake/fake-crm-counters.js';
import {
  FAKE_CRM_DEFAULT_AUTH,
  type FakeCrm,
  type FakeCrmOptions,
} from '../../../src/crm/fake/fake-crm-server.js';
import { drawFakeLatency } from '../../../src/crm/fake/fake-latency-model.js';
import { withFakeCrm } from '../../helpers/fake-crm.js';
import { createManualClock, type ManualClock } from '../../helpers/manual-clock.js';
import { waitFor } from '../../helpers/wait-for.js';

const TENANT = { cid: '3003', companySsoId: 'co-3003', noteCount: 1200, seed: 4, preset: 'clean' as const };
const OTHER = { cid: '3004', companySsoId: 'co-3004', noteCount: 50, seed: 5, preset: 'clean' as const };

async function getPage(
  fake: FakeCrm,
  page: number,
  perPage: number,
  opts: { cid?: string; auth?: string } = {},
) {
  const res = await request(
    `${fake.url}/v1/organizations/${opts.cid ?? TENANT.cid}/person_notes?page=${page}&per_page=${perPage}`,
    { headers: { authorization: opts.auth ?? FAKE_CRM_DEFAULT_AUTH } },
  );
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: JSON.parse(text) as Record<string, unknown> };
}

function withClockedCrm<T>(
  clock: ManualClock,
  behaviour: FakeCrmOptions['behaviour'],
  fn: (fake: FakeCrm) => Promise<T>,
  extra: Partial<FakeCrmOptions> = {},
) {
  return withFakeCrm({ tenants: [TENANT, OTHER], behaviour, clock, ...extra }, fn);
}

describe('fake CRM behaviour: instant (the default)', () => {
  it('answers as before: no latency, no RateLimit headers, no limits', async () => {
    const clock = createManualClock();
    await withClockedCrm(clock, undefined, async (fake) => {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => getPage(fake, 1 + (i % 3), 10)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(
        Object.keys(answers[0]!.headers).filter((h) => h.startsWith('ratelimit') || h.startsWith('x-fake')),
      ).toEqual([]);
      expect(clock.requested).toEqual([]);
      expect(fake.counters()).toMatchObject({ behaviour: 'instant', requests: 30, ok: 30, rateLimited: 0 });
    });
  });
});

describe('fake CRM behaviour: latency', () => {
  it('waits the drawn latency before the headers of a notes page, and reports it', async () => {
    const clock = createManualClock();
    await withClockedCrm(clock, { preset: 'realistic', seed: 21 }, async (fake) => {
      const pending = getPage(fake, 2, 500);
      await waitFor(
        () => clock.pending(),
        (n) => n === 1,
        { what: 'the page waiting out its latency' },
      );
      const expected = drawFakeLatency(fake.behaviour.latency, 21, {
        cid: TENANT.cid,
        page: 2,
        perPage: 500,
        notesOnPage: 500,
        repeat: 0,
      }).latencyMs;
      expect(clock.requested).toEqual([expected]);
      expect(expected).toBeGreaterThan(200);
      clock.advance(expected);
      const answer = await pending;
      expect(answer.status).toBe(200);
      expect(answer.headers['x-fake-crm-latency-ms']).toBe(String(expected));
      expect(fake.counters().latency).toEqual({ draws: 1, tails: 0, totalMs: expected });
    });
  });

  it('gives the one-note probe an empty-page latency and leaves attachment files instant', async () => {
    const clock = createManualClock();
    const tenant = { ...TENANT, preset: 'realistic' as const };
    await withFakeCrm(
      {
        tenants: [tenant],
        behaviour: { preset: 'realistic', seed: 3, latency: { sigma: 0, tailShare: 0 } },
        clock,
      },
      async (fake) => {
        const probe = getPage(fake, 1, 1);
        await waitFor(
          () => clock.pending(),
          (n) => n === 1,
          { what: 'the probe waiting' },
        );
        expect(clock.requested).toEqual([122]);
        clock.advance(122);
        expect((await probe).status).toBe(200);
        // A whole page, to find an attachment URL; its own latency is 120 + 1.6 × 1000.
        const page = getPage(fake, 1, 1000);
        await waitFor(
          () => clock.pending(),
          (n) => n === 1,
          { what: 'the page waiting' },
        );
        clock.advance(1720);
        const notes = (await page).json.data as Array<{ crm_note_attachments: Array<{ url: string }> }>;
        const fileUrl = notes
          .flatMap((n) => n.crm_note_attachments)
          .map((a) => a.url)
          .find((url) => url.startsWith(fake.url));
        expect(fileUrl).toBeDefined();
        const file = await request(fileUrl!, { method: 'HEAD' });
        await file.body.dump();
        expect(file.statusCode).toBeLessThan(500);
        expect(clock.requested).toEqual([122, 1720]);
      },
    );
  });

  it('is deterministic: two servers with one seed give one latency sequence, another seed another', async () => {
    const sequence = async (seed: number) => {
      const clock = createManualClock({ jumpOnSleep: true });
      await withClockedCrm(clock, { preset: 'realistic', seed }, async (fake) => {
        // Sequential, with a repeated page (a retry) and the short last page.
        for (const [page, perPage] of [
          [1, 500],
          [2, 500],
          [1, 500],
          [3, 500],
          [1, 1],
        ] as const) {
          expect((await getPage(fake, page, perPage)).status).toBe(200);
        }
      });
      return clock.requested;
    };
    const [a, b, c] = [await sequence(8), await sequence(8), await sequence(9)];
    expect(a).toHaveLength(5);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // The retry of page 1 got its own draw; the last page (200 notes) a shorter median.
    expect(a[2]).not.toBe(a[0]);
  });
});

describe('fake CRM behaviour: rate limit', () => {
  const quotaOnly = {
    preset: 'instant' as const,
    rateLimit: { windowMs: 10_000, windowLimit: 5, perSecondLimit: 0 },
  };

  it('answers the N+1st request of the window 429 with a Retry-After that is enough, and RateLimit headers', async () => {
    const clock = createManualClock({ startMs: 50_000 });
    await withClockedCrm(clock, quotaOnly, async (fake) => {
      for (let i = 0; i < 5; i++) {
        const ok = await getPage(fake, 1, 10);
        expect(ok.status).toBe(200);
        expect(ok.headers['ratelimit-remaining']).toBe(String(4 - i));
        clock.advance(1_000);
      }
      // t = 55 s; the first request (t = 50 s) leaves the window at 60 s.
      const refused = await getPage(fake, 1, 10);
      expect(refused.status).toBe(429);
      expect(refused.headers).toMatchObject({
        'retry-after': '5',
        'ratelimit-limit': '5',
        'ratelimit-remaining': '0',
        'ratelimit-reset': '5',
        'ratelimit-policy': '"quota";q=5;w=10',
        ratelimit: '"quota";r=0;t=5',
      });
      expect(refused.json).toMatchObject({
        error: 'rate_limited',
        reason: 'quota',
        policyName: 'TEN_SECONDLY_ROLLING',
      });
      clock.advance(4_999);
      expect((await getPage(fake, 1, 10)).status).toBe(429);
      clock.advance(1);
      expect((await getPage(fake, 1, 10)).status).toBe(200);
      expect(fake.counters()).toMatchObject({ requests: 8, ok: 6, rateLimited: 2, refused: { quota: 2 } });
    });
  });

  it('holds the per-second ceiling under the quota', async () => {
    const clock = createManualClock();
    await withClockedCrm(
      clock,
      {
        preset: 'realistic',
        latency: { baseMs: 0, perNoteMs: 0, tailShare: 0, deepPageMsPerPage: 0 },
        concurrency: { servedAtOnce: 0 },
      },
      async (fake) => {
        const burst = await Promise.all(Array.from({ length: 45 }, () => getPage(fake, 1, 1)));
        expect(burst.filter((a) => a.status === 200)).toHaveLength(40);
        const refused = burst.filter((a) => a.status === 429);
        expect(refused).toHaveLength(5);
        expect(refused.every((a) => a.headers['retry-after'] === '1' && a.json.reason === 'burst')).toBe(
          true,
        );
        clock.advance(1_000);
        expect((await getPage(fake, 1, 1)).status).toBe(200);
        expect(fake.counters().refused).toEqual({ quota: 0, burst: 5, concurrency: 0 });
      },
    );
  });

  it('counts per token, shared by every tenant', async () => {
    const clock = createManualClock();
    await withClockedCrm(
      clock,
      { ...quotaOnly, rateLimit: { ...quotaOnly.rateLimit, windowLimit: 2 } },
      async (fake) => {
        expect((await getPage(fake, 1, 10, { auth: 'Token a' })).status).toBe(200);
        expect((await getPage(fake, 1, 10, { auth: 'Token a', cid: OTHER.cid })).status).toBe(200);
        expect((await getPage(fake, 2, 10, { auth: 'Token a' })).status).toBe(429);
        expect((await getPage(fake, 1, 10, { auth: 'Token a', cid: OTHER.cid })).status).toBe(429);
        expect((await getPage(fake, 1, 10, { auth: 'Token b' })).status).toBe(200);
        const counters = fake.counters();
        expect(counters.byToken).toEqual({
          [fakeCrmTokenLabel('Token a')]: { requests: 4, ok: 2, rateLimited: 2 },
          [fakeCrmTokenLabel('Token b')]: { requests: 1, ok: 1, rateLimited: 0 },
        });
        expect(JSON.stringify(counters)).not.toContain('Token a');
        expect(counters.byCid[OTHER.cid]).toEqual({ requests: 2, ok: 1, rateLimited: 1, notesServed: 10 });
      },
      { auth: null },
    );
  });
});

describe('fake CRM behaviour: concurrency cap', () => {
  it.each([429, 503] as const)(
    'serves servedAtOnce at a time, queues maxQueued in order, refuses the rest %i at once',
    async (overflowStatus) => {
      const clock = createManualClock();
      const behaviour = {
        preset: 'instant' as const,
        latency: { baseMs: 1_000 },
        concurrency: { servedAtOnce: 2, maxQueued: 3, overflowStatus },
      };
      await withClockedCrm(clock, behaviour, async (fake) => {
        const finished: number[] = [];
        const answers = Array.from({ length: 7 }, (_, i) =>
          getPage(fake, 1 + i, 10).then((a) => {
            finished.push(i);
            return a;
          }),
        );
        await waitFor(
          () => fake.counters(),
          (c) => c.serving.now === 2 && c.queued.now === 3 && c.refused.concurrency === 2,
          { what: '2 served, 3 queued, 2 refused' },
        );
        await waitFor(
          () => finished.length,
          (n) => n === 2,
          { what: 'the refused answers' },
        );
        const refused = await Promise.all(finished.map((i) => answers[i]!));
        for (const r of refused) {
          expect(r.status).toBe(overflowStatus);
          expect(r.headers['retry-after']).toBe('1');
          expect(r.json).toMatchObject({ reason: 'concurrency' });
        }
        // Each second of the clock lets the next two in (FIFO, see the gate's unit test) until all five are served.
        while (finished.length < 7) {
          await waitFor(
            () => [clock.pending(), finished.length],
            ([sleeping, done]) => sleeping! > 0 || done === 7,
            { what: 'a served request waiting out its latency' },
          );
          if (clock.pending() > 0) clock.advance(1_000);
        }
        const all = await Promise.all(answers);
        expect(all.filter((a) => a.status === 200)).toHaveLength(5);
        expect(clock.requested).toEqual([1_000, 1_000, 1_000, 1_000, 1_000]);
        const counters = fake.counters();
        // 2 served + 3 queued were open together; a refused one may be answered before the 7th arrives.
        expect(counters.inFlight.peak).toBeGreaterThanOrEqual(5);
        expect(counters).toMatchObject({
          requests: 7,
          ok: 5,
          inFlight: { now: 0 },
          serving: { now: 0, peak: 2 },
          queued: { now: 0, peak: 3 },
          ...(overflowStatus === 429 ? { rateLimited: 2 } : { unavailable: 2 }),
        });
      });
    },
  );
});

describe('fake CRM behaviour: clients that leave, a server that stops', () => {
  it('frees the slot of a client that leaves mid-latency and the place of one that leaves the queue', async () => {
    const clock = createManualClock();
    const behaviour = {
      preset: 'instant' as const,
      latency: { baseMs: 5_000 },
      concurrency: { servedAtOnce: 1, maxQueued: 1, overflowStatus: 503 as const },
    };
    await withClockedCrm(clock, behaviour, async (fake) => {
      const url = (page: number) =>
        `${fake.url}/v1/organizations/${TENANT.cid}/person_notes?page=${page}&per_page=10`;
      const served = new AbortController();
      const queued = new AbortController();
      const first = request(url(1), {
        headers: { authorization: FAKE_CRM_DEFAULT_AUTH },
        signal: served.signal,
      });
      await waitFor(
        () => clock.pending(),
        (n) => n === 1,
        { what: 'the first request waiting out its latency' },
      );
      const second = request(url(2), {
        headers: { authorization: FAKE_CRM_DEFAULT_AUTH },
        signal: queued.signal,
      });
      await waitFor(
        () => fake.counters().queued.now,
        (n) => n === 1,
        { what: 'the second request queued' },
      );
      queued.abort();
      await expect(second).rejects.toThrow();
      await waitFor(
        () => fake.counters().queued.now,
        (n) => n === 0,
        { what: 'the queue place given up' },
      );
      served.abort();
      await expect(first).rejects.toThrow();
      await waitFor(
        () => [clock.pending(), fake.counters().serving.now],
        ([sleeping, serving]) => sleeping === 0 && serving === 0,
        { what: 'the latency wait cut short and the slot free' },
      );
      // The server is whole again: the next request is served at once into the free slot.
      const third = getPage(fake, 3, 10);
      await waitFor(
        () => clock.pending(),
        (n) => n === 1,
        { what: 'the third request in the slot' },
      );
      clock.advance(5_000);
      expect((await third).status).toBe(200);
      expect(fake.counters()).toMatchObject({ requests: 3, ok: 1, byStatus: { '0': 2, '200': 1 } });
    });
  });

  it('stops at once while requests wait out their latency', async () => {
    const clock = createManualClock();
    await withClockedCrm(clock, { preset: 'slow' }, async (fake) => {
      const waiting = getPage(fake, 1, 500).catch((e: unknown) => e);
      await waitFor(
        () => clock.pending(),
        (n) => n === 1,
        { what: 'a request waiting' },
      );
      await fake.stop();
      expect(await waiting).toBeInstanceOf(Error);
      expect(clock.pending()).toBe(0);
    });
  });
});

describe('fake CRM behaviour: counters endpoint', () => {
  it('serves the counters on GET /_fake/counters and resets them on POST /_fake/reset', async () => {
    const clock = createManualClock();
    const behaviour = { preset: 'instant' as const, rateLimit: { windowLimit: 1, perSecondLimit: 0 } };
    await withClockedCrm(clock, behaviour, async (fake) => {
      await getPage(fake, 1, 10);
      await getPage(fake, 1, 10);
      const served = await request(`${fake.url}/_fake/counters`);
      const counters = (await served.body.json()) as Record<string, unknown>;
      expect(served.statusCode).toBe(200);
      expect(counters).toEqual(fake.counters());
      expect(counters).toMatchObject({
        requests: 2,
        ok: 1,
        rateLimited: 1,
        byStatus: { '200': 1, '429': 1 },
      });

      const reset = await request(`${fake.url}/_fake/reset`, { method: 'POST' });
      expect(await reset.body.json()).toMatchObject({ reset: 'counters', before: { requests: 2 } });
      expect(fake.counters()).toMatchObject({ requests: 0, ok: 0, rateLimited: 0, byToken: {}, byCid: {} });
      // Counters only: the window still holds the first request.
      expect((await getPage(fake, 1, 10)).status).toBe(429);
      const all = await request(`${fake.url}/_fake/reset?scope=all`, { method: 'POST' });
      await all.body.dump();
      expect((await getPage(fake, 1, 10)).status).toBe(200);

      const wrongMethod = await request(`${fake.url}/_fake/counters`, { method: 'POST' });
      await wrongMethod.body.dump();
      expect(wrongMethod.statusCode).toBe(405);
      const badScope = await request(`${fake.url}/_fake/reset?scope=everything`, { method: 'POST' });
      expect(badScope.statusCode).toBe(400);
      expect(await badScope.body.json()).toMatchObject({ error: 'invalid_scope' });
    });
  });

  it('rejects a bad behaviour when the server starts, naming every problem', async () => {
    await expect(
      withFakeCrm(
        { tenants: [TENANT], behaviour: { latency: { sigma: -1 }, rateLimit: { windowMs: 0 } } },
        () => Promise.resolve(),
      ),
    ).rejects.toThrow(
      'latency.sigma must be ≥ 0, got -1; rateLimit.windowMs must be a positive integer, got 0',
    );
    expect(resolveFakeCrmBehaviour({ preset: 'slow' }).preset).toBe('slow');
  });
});
