import { describe, expect, it } from 'vitest';

import { type AttemptResult, type RetryInfo, runWithRetries } from '../../../src/crm/crm-retry.js';

const fail = (status: number | null, retryAfterMs: number | null = null): AttemptResult<string> => ({
  ok: false,
  failure: { status, reason: status === null ? 'timeout' : `http_${status}`, retryAfterMs },
});

function recorder() {
  const slept: number[] = [];
  const retries: RetryInfo[] = [];
  return {
    slept,
    retries,
    sleep: (ms: number) => {
      slept.push(ms);
      return Promise.resolve();
    },
    onRetry: (info: RetryInfo) => retries.push(info),
  };
}

describe('runWithRetries', () => {
  it('waits the schedule between attempts and gives up after one attempt per delay plus one', async () => {
    const r = recorder();
    let calls = 0;
    const outcome = await runWithRetries(
      () => {
        calls++;
        return Promise.resolve(fail(503));
      },
      { delaysMs: [1000, 3000, 9000], maxRetryAfterMs: 30_000 },
      r,
    );
    expect(calls).toBe(4);
    expect(r.slept).toEqual([1000, 3000, 9000]);
    expect(outcome).toEqual({ ok: false, attempts: 4, failure: expect.objectContaining({ status: 503 }) });
    expect(r.retries.map((i) => i.attempt)).toEqual([1, 2, 3]);
  });

  it('returns the value of the first successful attempt', async () => {
    const r = recorder();
    const answers = [fail(null), fail(500), { ok: true as const, value: 'page' }];
    const outcome = await runWithRetries(
      () => Promise.resolve(answers.shift()!),
      { delaysMs: [1, 2, 3], maxRetryAfterMs: 0 },
      r,
    );
    expect(outcome).toEqual({ ok: true, value: 'page', attempts: 3 });
    expect(r.slept).toEqual([1, 2]);
  });

  it('waits Retry-After instead of the schedule, cut to the cap', async () => {
    const r = recorder();
    const answers = [fail(429, 2000), fail(429, 90_000), { ok: true as const, value: 'x' }];
    await runWithRetries(
      () => Promise.resolve(answers.shift()!),
      { delaysMs: [1000, 3000, 9000], maxRetryAfterMs: 5000 },
      r,
    );
    expect(r.slept).toEqual([2000, 5000]);
  });

  it('stops before the next attempt once the signal is aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = runWithRetries(
      () => {
        calls++;
        controller.abort(new Error('run cancelled'));
        return Promise.resolve(fail(500));
      },
      { delaysMs: [1, 1, 1], maxRetryAfterMs: 0 },
      { sleep: () => Promise.resolve(), signal: controller.signal },
    );
    await expect(run).rejects.toThrow('run cancelled');
    expect(calls).toBe(1);
  });
});
