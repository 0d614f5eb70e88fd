import { describe, expect, it } from 'vitest';

import type { CrmBudgetDoc } from '../../../../src/db/documents.js';
import { createFleetSampler } from '../../../../src/migration/waves/fleet-sampler.js';

function budget(overrides: Partial<CrmBudgetDoc> = {}): CrmBudgetDoc {
  const at = new Date(0);
  return {
    _id: 'crm:x',
    cap_per_s: 4,
    burst: 2,
    rate_per_s: 2.8,
    interval_ms: 1000 / 2.8,
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
    created_at: at,
    updated_at: at,
    ...overrides,
  };
}

describe('fleet sampler', () => {
  it('reports requests/s, 429s/s and notes/s over its window once two samples are a second apart', () => {
    const fleet = createFleetSampler(30_000);
    const first = fleet.sample(0, budget(), [{ runId: 'r1', processed: 0 }]);
    expect(first.fleet).toMatchObject({ requests_per_s: null, rate_limited_per_s: null, notes_per_s: null });
    expect(first.members.get('r1')).toEqual({ notesPerS: null });
    const later = fleet.sample(
      10_000,
      budget({ requests_total: 36, rate_limited_total: 1, paused_until_ms: 12_000 }),
      [
        { runId: 'r1', processed: 500 },
        { runId: 'r2', processed: 0 },
      ],
    );
    expect(later.fleet).toMatchObject({
      budget: { rate_per_s: 2.8, cap_per_s: 4, burst: 2, paused_until: new Date(12_000), requests_total: 36 },
      requests_per_s: 3.6,
      rate_limited_per_s: 0.1,
      // r2 has one sample only: it adds nothing yet.
      notes_per_s: 50,
    });
    expect(later.members.get('r1')).toEqual({ notesPerS: 50 });
    expect(later.members.get('r2')).toEqual({ notesPerS: null });
  });

  it('forgets samples older than the window, and runs that are no longer active', () => {
    const fleet = createFleetSampler(10_000);
    fleet.sample(0, budget(), [{ runId: 'r1', processed: 0 }]);
    fleet.sample(5_000, budget({ requests_total: 100 }), [{ runId: 'r1', processed: 1_000 }]);
    // 20 s on, the rate is the one of the last 10 s or so, not of the whole run.
    fleet.sample(15_000, budget({ requests_total: 110 }), [{ runId: 'r1', processed: 1_100 }]);
    const now = fleet.sample(20_000, budget({ requests_total: 115 }), [{ runId: 'r1', processed: 1_150 }]);
    expect(now.fleet.requests_per_s).toBe(1);
    expect(now.members.get('r1')).toEqual({ notesPerS: 10 });
    // r1 ended: a new sample without it starts r1 afresh should it come back.
    fleet.sample(21_000, budget({ requests_total: 116 }), []);
    const back = fleet.sample(22_000, budget({ requests_total: 117 }), [{ runId: 'r1', processed: 2_000 }]);
    expect(back.members.get('r1')).toEqual({ notesPerS: null });
  });

  it('has no CRM figures without a shared budget, and gives each tenant its 429s with one', () => {
    const fleet = createFleetSampler();
    fleet.sample(0, null, []);
    const none = fleet.sample(2_000, null, []);
    expect(none.fleet).toMatchObject({ budget: null, requests_per_s: null, rate_limited_per_s: null });
    expect(fleet.rateLimitedOf('4601')).toBeNull();
    fleet.sample(3_000, budget({ rate_limited_by_cid: { '4601': 3 } }), []);
    expect(fleet.rateLimitedOf('4601')).toBe(3);
    expect(fleet.rateLimitedOf('4602')).toBe(0);
    // A CID is looked up as an own property only.
    expect(fleet.rateLimitedOf('__proto__')).toBe(0);
  });
});
