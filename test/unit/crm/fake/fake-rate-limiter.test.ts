import { describe, expect, it } from 'vitest';

import {
  type FakeRateLimitOptions,
  resolveFakeCrmBehaviour,
} from '../../../../src/crm/fake/fake-crm-behaviour.js';
import { createFakeRateLimiter, type FakeRateLimiter } from '../../../../src/crm/fake/fake-rate-limiter.js';

const realistic = resolveFakeCrmBehaviour({ preset: 'realistic' }).rateLimit;

function limiter(overrides: Partial<FakeRateLimitOptions>): FakeRateLimiter {
  const created = createFakeRateLimiter({ ...realistic, ...overrides });
  if (!created) throw new Error('expected a rate limiter');
  return created;
}

describe('fake CRM rate limiter', () => {
  it('refuses the 201st request of a rolling 10 s window with the Retry-After that gets it through', () => {
    const rl = limiter({ perSecondLimit: 0 });
    // 200 requests spread over the first 2 s (one every 10 ms).
    for (let i = 0; i < 200; i++) expect(rl.check('t', i * 10).allowed).toBe(true);
    const refused = rl.check('t', 2_500);
    expect(refused).toMatchObject({ allowed: false, refusedBy: 'quota', retryAfterMs: 7_500 });
    // Whole seconds, rounded up: waiting it out is always enough.
    expect(refused.headers['retry-after']).toBe('8');
    expect(refused.headers).toMatchObject({
      'ratelimit-limit': '200',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '8',
    });
    // One millisecond before the first request leaves the window: still refused.
    expect(rl.check('t', 9_999).allowed).toBe(false);
    // The request at t = 0 has left: room for exactly one.
    expect(rl.check('t', 10_000).allowed).toBe(true);
    // Full again until the request at t = 10 ms leaves: 5 ms, announced as 1 s.
    const again = rl.check('t', 10_005);
    expect(again).toMatchObject({ allowed: false, retryAfterMs: 5 });
    expect(again.headers['retry-after']).toBe('1');
    expect(rl.check('t', 10_010).allowed).toBe(true);
  });

  it('admits the refused client once it has waited exactly Retry-After seconds', () => {
    const rl = limiter({ perSecondLimit: 0 });
    for (let i = 0; i < 200; i++) rl.check('t', 1_234 + i);
    const refused = rl.check('t', 4_321);
    const waitMs = Number(refused.headers['retry-after']) * 1000;
    expect(rl.check('t', 4_321 + waitMs - 1_000).allowed).toBe(false);
    expect(rl.check('t', 4_321 + waitMs).allowed).toBe(true);
  });

  it('caps any rolling second at the per-second ceiling, below the quota', () => {
    const rl = limiter({});
    for (let i = 0; i < 40; i++) expect(rl.check('t', i * 10).allowed).toBe(true);
    const refused = rl.check('t', 400);
    expect(refused).toMatchObject({ allowed: false, refusedBy: 'burst', retryAfterMs: 600 });
    expect(refused.headers).toMatchObject({
      'retry-after': '1',
      'ratelimit-limit': '40',
      ratelimit: '"burst";r=0;t=1',
    });
    expect(rl.check('t', 999).allowed).toBe(false);
    expect(rl.check('t', 1_000).allowed).toBe(true);
  });

  it('sends both generations of the IETF fields on an admitted request', () => {
    const rl = limiter({});
    const first = rl.check('t', 0);
    expect(first.headers).toEqual({
      'ratelimit-limit': '40',
      'ratelimit-remaining': '39',
      'ratelimit-reset': '1',
      'ratelimit-policy': '"quota";q=200;w=10, "burst";q=40;w=1',
      ratelimit: '"burst";r=39;t=1',
    });
    expect(first.headers['retry-after']).toBeUndefined();
  });

  it('answers with the window that frees last when both are full', () => {
    const rl = limiter({ windowLimit: 10, perSecondLimit: 5 });
    for (let s = 0; s < 2; s++) for (let i = 0; i < 5; i++) rl.check('t', s * 1_000 + i);
    const refused = rl.check('t', 1_500);
    expect(refused).toMatchObject({ allowed: false, refusedBy: 'quota', retryAfterMs: 8_500 });
    expect(refused.headers['retry-after']).toBe('9');
  });

  it('counts every token on its own', () => {
    const rl = limiter({ windowLimit: 2, perSecondLimit: 0 });
    expect([rl.check('a', 0), rl.check('a', 1), rl.check('a', 2)].map((d) => d.allowed)).toEqual([
      true,
      true,
      false,
    ]);
    expect(rl.check('b', 3).allowed).toBe(true);
  });

  it('lets refused requests count in penalty mode, so retrying early pushes the reset out', () => {
    const gentle = limiter({ windowLimit: 2, perSecondLimit: 0 });
    const penal = limiter({ windowLimit: 2, perSecondLimit: 0, countRejected: true });
    for (const rl of [gentle, penal]) {
      rl.check('t', 0);
      rl.check('t', 0);
      rl.check('t', 5_000);
      rl.check('t', 6_000);
    }
    expect(gentle.check('t', 10_000).allowed).toBe(true);
    expect(penal.check('t', 10_000)).toMatchObject({ allowed: false, retryAfterMs: 5_000 });
  });

  it('forgets every window on reset, and is absent when both limits are 0', () => {
    const rl = limiter({ windowLimit: 1, perSecondLimit: 0 });
    rl.check('t', 0);
    expect(rl.check('t', 1).allowed).toBe(false);
    rl.reset();
    expect(rl.check('t', 2).allowed).toBe(true);
    expect(createFakeRateLimiter({ ...realistic, windowLimit: 0, perSecondLimit: 0 })).toBeNull();
  });
});
