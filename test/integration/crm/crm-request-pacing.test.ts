/**
 * The CRM client's shared pause (#15) against the real fake CRM over HTTP: k concurrent page
 * requests that hit the fake's rate limit wait out one Retry-After together. One manual clock
 * runs the fake's rate windows and the client's sleeps, so a 10 s window passes in no real time.
 */
import { describe, expect, it } from 'vitest';

import { createInProcessCrmPacer, type CrmRequestPacer } from '../../../src/crm/crm-request-pacer.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../../src/crm/fake/fake-crm-server.js';
import { createHttpCrmNotesExtractor } from '../../../src/crm/http-crm-notes-extractor.js';
import { createSilentLogger } from '../../../src/logger.js';
import { withFakeCrm } from '../../helpers/fake-crm.js';
import { createManualClock, type ManualClock } from '../../helpers/manual-clock.js';
import { waitFor } from '../../helpers/wait-for.js';

const TENANT = { cid: '4004', companySsoId: 'co-4004', noteCount: 300, seed: 6, preset: 'clean' as const };

function rateLimited(windowLimit: number) {
  return {
    tenants: [TENANT],
    behaviour: {
      preset: 'instant' as const,
      rateLimit: { windowMs: 10_000, windowLimit, perSecondLimit: 0 },
    },
  };
}

function extractorOn(fake: FakeCrm, clock: ManualClock, pacer: CrmRequestPacer | null) {
  return createHttpCrmNotesExtractor({
    rootUrl: fake.url,
    auth: FAKE_CRM_DEFAULT_AUTH,
    timeoutMs: 5_000,
    maxRetryAfterMs: 30_000,
    sleep: (ms, signal) => clock.clientSleep(ms, signal),
    now: () => new Date(clock.nowMs()),
    logger: createSilentLogger(),
    pacer,
  });
}

describe('CRM client: one shared pause on 429', () => {
  it('makes k concurrent page requests wait out one Retry-After together, new requests included', async () => {
    const clock = createManualClock();
    await withFakeCrm({ ...rateLimited(5), clock }, async (fake) => {
      const pacer = createInProcessCrmPacer({
        sleep: (ms, signal) => clock.clientSleep(ms, signal),
        nowMs: () => clock.nowMs(),
      });
      const crm = extractorOn(fake, clock, pacer);
      const pages = Array.from({ length: 8 }, (_, i) => crm.listPersonNotes(TENANT.cid, i + 1, 10));
      // 5 admitted, 3 refused with Retry-After: 10; all three are now waiting on the pause.
      await waitFor(
        () => ({ rateLimited: fake.counters().rateLimited, sleeping: clock.pending() }),
        (s) => s.rateLimited === 3 && s.sleeping === 1,
        { what: 'three 429s and one pause' },
      );
      expect(clock.requested).toEqual([10_000]);
      // A request started during the pause waits too, instead of bouncing off the limit.
      pages.push(crm.listPersonNotes(TENANT.cid, 9, 10));
      await waitFor(() => pacer.isPaused(), Boolean);
      clock.advance(10_000);
      const delivered = await Promise.all(pages);
      expect(delivered.map((p) => p.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(delivered.every((p) => p.notes.length === 10)).toBe(true);
      expect(pacer.pauses).toEqual({ started: 1, extended: 0 });
      expect(clock.requested).toEqual([10_000]);
      expect(fake.counters()).toMatchObject({ requests: 12, ok: 9, rateLimited: 3 });
    });
  });

  it('without a pacer, each refused request sleeps its own Retry-After and new ones bounce off', async () => {
    const clock = createManualClock();
    await withFakeCrm({ ...rateLimited(5), clock }, async (fake) => {
      const crm = extractorOn(fake, clock, null);
      const pages = Array.from({ length: 8 }, (_, i) => crm.listPersonNotes(TENANT.cid, i + 1, 10));
      await waitFor(
        () => clock.pending(),
        (n) => n === 3,
        { what: 'three separate sleeps' },
      );
      pages.push(crm.listPersonNotes(TENANT.cid, 9, 10));
      await waitFor(
        () => clock.pending(),
        (n) => n === 4,
        { what: 'the new request refused too' },
      );
      clock.advance(10_000);
      await Promise.all(pages);
      expect(clock.requested).toEqual([10_000, 10_000, 10_000, 10_000]);
      expect(fake.counters().rateLimited).toBe(4);
    });
  });

  it('keeps 429s bounded while k workers page a whole tenant through a tight quota', async () => {
    const clock = createManualClock();
    const inFlight = 4;
    const windowLimit = 5;
    await withFakeCrm({ ...rateLimited(windowLimit), clock }, async (fake) => {
      const pacer = createInProcessCrmPacer({
        sleep: (ms, signal) => clock.clientSleep(ms, signal),
        nowMs: () => clock.nowMs(),
      });
      const crm = extractorOn(fake, clock, pacer);
      let next = 1;
      const ids: string[] = [];
      const worker = async () => {
        for (let page = next++; page <= 30; page = next++) {
          const got = await crm.listPersonNotes(TENANT.cid, page, 10);
          for (const n of got.notes) ids.push(n.ok ? n.note.id : 'invalid');
        }
      };
      let finished = false;
      const done = Promise.all(Array.from({ length: inFlight }, worker)).finally(() => (finished = true));
      // Drive the clock: whenever every request waits on the pause, let the pause pass.
      while (!finished) {
        await waitFor(
          () => ({ finished, sleeping: clock.pending(), open: fake.counters().inFlight.now }),
          (s) => s.finished || (s.sleeping > 0 && s.open === 0),
          { what: 'the workers done, or all of them paused' },
        );
        if (!finished) clock.advanceToNext();
      }
      await done;
      expect(new Set(ids).size).toBe(300);
      const { rateLimited, ok, requests } = fake.counters();
      expect(ok).toBe(30);
      expect(requests).toBe(30 + rateLimited);
      // One timer per pause, never one per request; at most one 429 per worker per pause.
      expect(clock.requested).toHaveLength(pacer.pauses.started + pacer.pauses.extended);
      expect(pacer.pauses.started).toBeLessThanOrEqual(Math.ceil(30 / windowLimit));
      expect(rateLimited).toBeLessThanOrEqual(inFlight * pacer.pauses.started);
      expect(rateLimited).toBeGreaterThan(0);
    });
  });
});
