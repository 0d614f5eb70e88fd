/**
 * The CRM retry loop: a fixed backoff schedule (DESIGN.md §7: 1 s / 3 s / 9 s, so 4 attempts),
 * `Retry-After` honoured up to a cap. No jitter: one worker per CID talks to CRM at a time, so
 * there is no herd to spread, and an exact schedule is what operators and tests can reason about.
 * The sleeper is injected; tests never wait. With a pacer (crm-request-pacer.ts), a 429's
 * `Retry-After` is waited out once for every request of the extractor, not per request (#15).
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

import type { CrmRequestContext, CrmRequestPacer } from './crm-request-pacer.js';

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
  /**
   * With a pacer, a 429 with `Retry-After` is the CRM saying when to come back, not a failure:
   * such answers do not use up `delaysMs`, up to this many per request (then the request fails
   * as rate-limited). Default `DEFAULT_MAX_PACED_RATE_LIMITS`.
   */
  maxPacedRateLimits?: number;
}

/**
 * 20 paced 429s per request: at the default 30 s `Retry-After` cap that is up to 10 minutes of
 * waiting on a saturated CRM before a page gives up, while a CRM that never lets anyone through
 * still ends the run instead of holding it forever.
 */
export const DEFAULT_MAX_PACED_RATE_LIMITS = 20;

export interface RetryInfo {
  /** The attempt that failed, 1-based. */
  attempt: number;
  status: number | null;
  reason: string;
  delayMs: number;
}

export type RetryOutcome<T> =
  { ok: true; value: T; attempts: number } | { ok: false; failure: RetryableFailure; attempts: number };

export interface RetryDeps {
  sleep: Sleeper;
  onRetry?: (info: RetryInfo) => void;
  signal?: AbortSignal;
  /** Asked before every attempt and told of 2xx/429 answers; without one, each request waits alone. */
  pacer?: { pacer: CrmRequestPacer; context: CrmRequestContext };
}

/**
 * Runs `attempt` until it succeeds or the schedule is used up. Errors `attempt` throws (a 404, a
 * rejected request, an invalid envelope, the caller's abort) end the loop at once.
 */
export async function runWithRetries<T>(
  attempt: (n: number) => Promise<AttemptResult<T>>,
  policy: RetryPolicy,
  deps: RetryDeps,
): Promise<RetryOutcome<T>> {
  const paced = deps.pacer;
  const maxPacedRateLimits = policy.maxPacedRateLimits ?? DEFAULT_MAX_PACED_RATE_LIMITS;
  let failures = 0;
  let pacedRateLimits = 0;
  for (let n = 1; ; n++) {
    deps.signal?.throwIfAborted();
    await paced?.pacer.acquire(paced.context, deps.signal);
    const result = await attempt(n);
    if (result.ok) {
      paced?.pacer.onSuccess();
      return { ok: true, value: result.value, attempts: n };
    }
    const { retryAfterMs, status, reason } = result.failure;
    const cappedMs = retryAfterMs === null ? null : Math.min(retryAfterMs, policy.maxRetryAfterMs);
    // The pacer owns a 429's Retry-After: the next acquire waits it out, together with every other request.
    const pausedByPacer = paced !== undefined && status === 429 && cappedMs !== null;
    if (paced && status === 429) paced.pacer.onRateLimited(cappedMs);
    if (pausedByPacer && ++pacedRateLimits <= maxPacedRateLimits) {
      deps.onRetry?.({ attempt: n, status, reason, delayMs: cappedMs });
      continue;
    }
    const scheduled = policy.delaysMs[failures++];
    if (scheduled === undefined || pacedRateLimits > maxPacedRateLimits) {
      return { ok: false, failure: result.failure, attempts: n };
    }
    const delayMs = cappedMs ?? scheduled;
    deps.onRetry?.({ attempt: n, status, reason, delayMs });
    if (!pausedByPacer) await deps.sleep(delayMs, deps.signal);
  }
}
