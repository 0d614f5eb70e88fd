/**
 * The CRM retry loop: a fixed backoff schedule (DESIGN.md §7: 1 s / 3 s / 9 s, so 4 attempts),
 * `Retry-After` honoured up to a cap. No jitter: one worker per CID talks to CRM at a time, so
 * there is no herd to spread, and an exact schedule is what operators and tests can reason about.
 * The sleeper is injected; tests never wait.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

/** Waits between attempts 1→2, 2→3 and 3→4. */
export const DEFAULT_CRM_RETRY_DELAYS_MS: readonly number[] = [1000, 3000, 9000];

export type Sleeper = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleeper = (ms, signal) => sleepTimer(ms, undefined, signal ? { signal } : {});

/** A failed attempt worth another try. */
export interface RetryableFailure {
  /** HTTP status of the answer, null when there was no complete answer (timeout, dropped connection). */
  status: number | null;
  /** Short machine-readable cause: `timeout`, `connection_error`, `http_503`, `invalid_json`. */
  reason: string;
  /** From `Retry-After`, before the cap; null when absent. */
  retryAfterMs: number | null;
}

export type AttemptResult<T> = { ok: true; value: T } | { ok: false; failure: RetryableFailure };

export interface RetryPolicy {
  delaysMs: readonly number[];
  /** A longer `Retry-After` is cut down to this. */
  maxRetryAfterMs: number;
}

export interface RetryInfo {
  /** The attempt that failed, 1-based. */
  attempt: number;
  status: number | null;
  reason: string;
  delayMs: number;
}

export type RetryOutcome<T> =
  { ok: true; value: T; attempts: number } | { ok: false; failure: RetryableFailure; attempts: number };

/**
 * Runs `attempt` until it succeeds or the schedule is used up. Errors `attempt` throws (a 404, a
 * rejected request, an invalid envelope, the caller's abort) end the loop at once.
 */
export async function runWithRetries<T>(
  attempt: (n: number) => Promise<AttemptResult<T>>,
  policy: RetryPolicy,
  deps: { sleep: Sleeper; onRetry?: (info: RetryInfo) => void; signal?: AbortSignal },
): Promise<RetryOutcome<T>> {
  for (let n = 1; ; n++) {
    deps.signal?.throwIfAborted();
    const result = await attempt(n);
    if (result.ok) return { ok: true, value: result.value, attempts: n };
    const scheduled = policy.delaysMs[n - 1];
    if (scheduled === undefined) return { ok: false, failure: result.failure, attempts: n };
    const { retryAfterMs } = result.failure;
    const delayMs = retryAfterMs === null ? scheduled : Math.min(retryAfterMs, policy.maxRetryAfterMs);
    deps.onRetry?.({ attempt: n, status: result.failure.status, reason: result.failure.reason, delayMs });
    await deps.sleep(delayMs, deps.signal);
  }
}
