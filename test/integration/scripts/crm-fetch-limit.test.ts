/**
 * The CRM fetch-limit probe the benchmark compares migrations against (#15), over a real port.
 * The fake's rate windows and the probe's pauses share a manual clock that jumps on every sleep,
 * so the rate the probe reports is in the fake's time, and no test waits for real.
 */
import { describe, expect, it } from 'vitest';

import { measureCrmFetchLimit } from '../../../scripts/crm-fetch-limit.js';
import { FAKE_CRM_DEFAULT_AUTH } from '../../../src/crm/fake/fake-crm-server.js';
import { withFakeCrm } from '../../helpers/fake-crm.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const TENANT = { cid: '5005', companySsoId: 'co-5005', noteCount: 395, seed: 2, preset: 'clean' as const };

describe('CRM fetch limit', () => {
  it('pages the whole tenant once per pass and counts every note', async () => {
    await withFakeCrm({ tenants: [TENANT] }, async (fake) => {
      const limit = await measureCrmFetchLimit({
        url: fake.url,
        auth: FAKE_CRM_DEFAULT_AUTH,
        cid: TENANT.cid,
        perPage: 10,
        inFlight: 3,
        passes: 2,
      });
      expect(limit).toMatchObject({ pages: 80, notes: 790, requests: 80, rateLimited: 0, pauses: 0 });
      expect(fake.counters()).toMatchObject({ requests: 80, ok: 80, notesServed: 790 });
      expect(fake.counters().inFlight.peak).toBeLessThanOrEqual(3);
      expect(limit.pagesPerSecond).toBeGreaterThan(0);
    });
  });

  it('keeps to the rate limit through shared pauses, with 429s bounded by the window per pause', async () => {
    const clock = createManualClock({ jumpOnSleep: true });
    const behaviour = {
      preset: 'instant' as const,
      rateLimit: { windowMs: 1_000, windowLimit: 5, perSecondLimit: 0 },
    };
    await withFakeCrm({ tenants: [TENANT], behaviour, clock }, async (fake) => {
      const limit = await measureCrmFetchLimit({
        url: fake.url,
        auth: FAKE_CRM_DEFAULT_AUTH,
        cid: TENANT.cid,
        perPage: 10,
        inFlight: 4,
        sleep: (ms, signal) => clock.clientSleep(ms, signal),
        nowMs: () => clock.nowMs(),
      });
      const counters = fake.counters();
      expect(limit).toMatchObject({
        pages: 40,
        notes: 395,
        requests: counters.requests,
        rateLimited: counters.rateLimited,
      });
      // 40 pages at 5 per second: at least 7 s of the fake's clock (the first window is free); a
      // pause that starts while another request is still out may cost one more window.
      expect(limit.seconds).toBeGreaterThanOrEqual(7);
      expect(limit.seconds).toBeLessThanOrEqual(12);
      expect(limit.rateLimited).toBeGreaterThan(0);
      expect(limit.rateLimited).toBeLessThanOrEqual(4 * limit.pauses);
    });
  });

  it('fails with the CRM answer when the tenant does not exist, and on a bad window', async () => {
    await withFakeCrm({ tenants: [TENANT] }, async (fake) => {
      const options = { url: fake.url, auth: FAKE_CRM_DEFAULT_AUTH, perPage: 10 };
      await expect(measureCrmFetchLimit({ ...options, cid: 'nope', inFlight: 2 })).rejects.toThrow(
        'CRM answered page 1 of CID nope with 404',
      );
      await expect(measureCrmFetchLimit({ ...options, cid: TENANT.cid, inFlight: 0 })).rejects.toThrow(
        'inFlight must be a positive integer, got 0',
      );
    });
  });
});
