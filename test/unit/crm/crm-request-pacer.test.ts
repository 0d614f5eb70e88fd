import { describe, expect, it } from 'vitest';

import { createInProcessCrmPacer, type CrmPauseEvent } from '../../../src/crm/crm-request-pacer.js';
import { type AttemptResult, runWithRetries } from '../../../src/crm/crm-retry.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const PAGE = { cid: '1001', kind: 'page' as const };

function pacerOnManualClock() {
  const clock = createManualClock();
  const events: CrmPauseEvent[] = [];
  const pacer = createInProcessCrmPacer({
    sleep: (ms, signal) => clock.clientSleep(ms, signal),
    nowMs: () => clock.nowMs(),
    onPause: (e) => events.push(e),
  });
  return { clock, pacer, events };
}

/** Resolves to 'pending' when `promise` has not settled once the microtasks queued so far have run. */
async function stateOf(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  const marker = Symbol('pending');
  const settled = await Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(marker))),
  ]);
  return settled === marker ? 'pending' : (settled as 'resolved' | 'rejected');
}

describe('in-process CRM request pacer', () => {
  it('lets every request through while nothing was rate limited', async () => {
    const { clock, pacer } = pacerOnManualClock();
    await Promise.all([pacer.acquire(PAGE), pacer.acquire(PAGE)]);
    pacer.onSuccess();
    expect(clock.requested).toEqual([]);
    expect(pacer.isPaused()).toBe(false);
  });

  it('turns one Retry-After into one pause that every request waits on', async () => {
    const { clock, pacer, events } = pacerOnManualClock();
    pacer.onRateLimited(7_000);
    pacer.onRateLimited(7_000); // a second in-flight request's 429, same end
    const waiting = Array.from({ length: 5 }, () => pacer.acquire(PAGE));
    expect(await stateOf(Promise.any(waiting))).toBe('pending');
    expect(clock.requested).toEqual([7_000]);
    expect(pacer.isPaused()).toBe(true);
    clock.advance(7_000);
    await Promise.all(waiting);
    expect(pacer.pauses).toEqual({ started: 1, extended: 0 });
    expect(events).toEqual([{ kind: 'started', addedMs: 7_000 }]);
    expect(pacer.isPaused()).toBe(false);
    await pacer.acquire(PAGE);
  });

  it('extends the pause when a later 429 asks for a later end, and every waiter waits for it', async () => {
    const { clock, pacer, events } = pacerOnManualClock();
    pacer.onRateLimited(3_000);
    const early = pacer.acquire(PAGE);
    clock.advance(1_000);
    pacer.onRateLimited(5_000); // ends at 6 s instead of 3 s
    pacer.onRateLimited(1_000); // ends at 2 s: nothing to change
    clock.advance(2_000);
    expect(await stateOf(early)).toBe('pending');
    clock.advance(3_000);
    await early;
    expect(clock.nowMs()).toBe(6_000);
    expect(clock.requested).toEqual([3_000, 3_000]);
    expect(events).toEqual([
      { kind: 'started', addedMs: 3_000 },
      { kind: 'extended', addedMs: 3_000 },
    ]);
  });

  it('pauses nobody for a 429 without Retry-After', async () => {
    const { clock, pacer } = pacerOnManualClock();
    pacer.onRateLimited(null);
    await pacer.acquire(PAGE);
    expect(clock.requested).toEqual([]);
  });

  it('rejects an aborted waiter with its reason, keeps the others waiting, and re-arms what is left', async () => {
    const { clock, pacer } = pacerOnManualClock();
    pacer.onRateLimited(10_000);
    const leaving = new AbortController();
    const staying = new AbortController();
    const a = pacer.acquire(PAGE, leaving.signal);
    const b = pacer.acquire(PAGE, staying.signal);
    leaving.abort(new Error('run cancelled'));
    await expect(a).rejects.toThrow('run cancelled');
    expect(clock.pending()).toBe(1);
    clock.advance(4_000);
    staying.abort(new Error('shutdown'));
    await expect(b).rejects.toThrow('shutdown');
    // Nobody waits any more: the timer is cancelled so it cannot hold a shutdown up.
    expect(clock.pending()).toBe(0);
    expect(pacer.isPaused()).toBe(true);
    const later = pacer.acquire(PAGE);
    expect(clock.requested).toEqual([10_000, 6_000]);
    clock.advance(6_000);
    await later;
    expect(pacer.isPaused()).toBe(false);
  });
});

describe('runWithRetries with a pacer', () => {
  const fail = (status: number, retryAfterMs: number | null = null): AttemptResult<string> => ({
    ok: false,
    failure: { status, reason: `http_${status}`, retryAfterMs },
  });

  function recordingPacer() {
    const calls: string[] = [];
    return {
      calls,
      pacer: {
        acquire: () => {
          calls.push('acquire');
          return Promise.resolve();
        },
        onRateLimited: (ms: number | null) => void calls.push(`rateLimited:${ms}`),
        onSuccess: () => void calls.push('success'),
      },
    };
  }

  it('asks before every attempt, leaves a 429 Retry-After to the pacer and reports the outcome', async () => {
    const { calls, pacer } = recordingPacer();
    const slept: number[] = [];
    const answers = [fail(429, 90_000), fail(429), fail(503, 2_000), { ok: true as const, value: 'page' }];
    const outcome = await runWithRetries(
      () => Promise.resolve(answers.shift()!),
      { delaysMs: [1_000, 3_000, 9_000], maxRetryAfterMs: 30_000 },
      {
        sleep: (ms) => {
          slept.push(ms);
          return Promise.resolve();
        },
        pacer: { pacer, context: PAGE },
      },
    );
    expect(outcome).toEqual({ ok: true, value: 'page', attempts: 4 });
    expect(calls).toEqual([
      'acquire',
      'rateLimited:30000', // cut to the cap; no own sleep
      'acquire',
      'rateLimited:null', // no Retry-After: the request keeps its own backoff
      'acquire',
      'acquire', // a 503 reports nothing; its Retry-After is the request's own wait
      'success',
    ]);
    // The paced 429 used no step of the 1/3/9 s schedule: the next failure waits its first step.
    expect(slept).toEqual([1_000, 2_000]);
  });

  it('lets paced 429s through without using up the failure schedule, up to a cap per request', async () => {
    const { pacer } = recordingPacer();
    const slept: number[] = [];
    const policy = { delaysMs: [1_000, 3_000, 9_000], maxRetryAfterMs: 30_000, maxPacedRateLimits: 5 };
    const deps = {
      sleep: (ms: number) => (slept.push(ms), Promise.resolve()),
      pacer: { pacer, context: PAGE },
    };
    // Five paced 429s, then two 503s, then success: 8 attempts, and only the 503s slept.
    const answers = [
      ...Array<AttemptResult<string>>(5).fill(fail(429, 1_000)),
      fail(503),
      fail(503),
      { ok: true as const, value: 'page' },
    ];
    expect(await runWithRetries(() => Promise.resolve(answers.shift()!), policy, deps)).toEqual({
      ok: true,
      value: 'page',
      attempts: 8,
    });
    expect(slept).toEqual([1_000, 3_000]);
    // A CRM that never lets the request through ends it once the cap is passed.
    const always = await runWithRetries(() => Promise.resolve(fail(429, 1_000)), policy, deps);
    expect(always).toMatchObject({ ok: false, attempts: 6, failure: { status: 429 } });
  });

  it('without a pacer, every 429 is one step of the schedule, as before', async () => {
    const slept: number[] = [];
    const outcome = await runWithRetries(
      () => Promise.resolve(fail(429, 2_000)),
      { delaysMs: [1_000, 3_000, 9_000], maxRetryAfterMs: 30_000 },
      { sleep: (ms) => (slept.push(ms), Promise.resolve()) },
    );
    expect(outcome).toMatchObject({ ok: false, attempts: 4 });
    expect(slept).toEqual([2_000, 2_000, 2_000]);
  });
});
