/**
 * The fake CRM's rate limit (#15): rolling windows (a quota window and a one-second burst
 * ceiling) over a log of admitted request times, per token. Pure apart from its state: the caller
 * passes the clock. Answers carry `Retry-After` and both generations of the IETF RateLimit fields.
 *
 * Headers (draft-ietf-httpapi-ratelimit-headers): drafts ≤ 06 define `RateLimit-Limit`,
 * `-Remaining` and `-Reset` (delta-seconds), still the common convention; drafts 07–11 replace
 * them with `RateLimit-Policy: "quota";q=200;w=10` and `RateLimit: "quota";r=12;t=3`. We send both.
 */
import type { FakeRateLimitOptions } from './fake-crm-behaviour.js';

export type FakeRateLimitWindowName = 'quota' | 'burst';

export interface FakeRateDecision {
  allowed: boolean;
  /** The window that refused (the one that frees last when both are full); null when allowed. */
  refusedBy: FakeRateLimitWindowName | null;
  /** How long until a request would be admitted (no other traffic); 0 when allowed. */
  retryAfterMs: number;
  /** `RateLimit-*` (and, when refused, `Retry-After`) headers for the answer. */
  headers: Record<string, string>;
}

export interface FakeRateLimiter {
  /** Counts one request of `token` at `nowMs` (monotonic ms) and decides. */
  check(token: string, nowMs: number): FakeRateDecision;
  /** Forgets every token's history. */
  reset(): void;
}

interface Window {
  name: FakeRateLimitWindowName;
  ms: number;
  limit: number;
}

/** `options.windowLimit`/`perSecondLimit` of 0 switch that window off; null when both are off. */
export function createFakeRateLimiter(options: FakeRateLimitOptions): FakeRateLimiter | null {
  const windows: Window[] = [
    { name: 'quota' as const, ms: options.windowMs, limit: options.windowLimit },
    { name: 'burst' as const, ms: 1000, limit: options.perSecondLimit },
  ].filter((w) => w.limit > 0);
  if (windows.length === 0) return null;
  const longestMs = Math.max(...windows.map((w) => w.ms));
  const logs = new Map<string, number[]>();
  const policy = windows
    .map((w) => `"${w.name}";q=${w.limit};w=${Math.max(1, Math.round(w.ms / 1000))}`)
    .join(', ');

  return {
    check(token, nowMs) {
      let log = logs.get(token);
      if (!log) logs.set(token, (log = []));
      let expired = 0;
      while (expired < log.length && nowMs - (log[expired] ?? nowMs) >= longestMs) expired++;
      if (expired > 0) log.splice(0, expired);

      let retryAfterMs = 0;
      let refusedBy: FakeRateLimitWindowName | null = null;
      for (const w of windows) {
        const first = firstInWindow(log, nowMs - w.ms);
        const count = log.length - first;
        if (count < w.limit) continue;
        // The (count − limit + 1)-th oldest entry must leave before there is room again.
        const freesAtMs = (log[first + count - w.limit] ?? nowMs) + w.ms;
        if (freesAtMs - nowMs >= retryAfterMs) {
          retryAfterMs = freesAtMs - nowMs;
          refusedBy = w.name;
        }
      }
      const allowed = refusedBy === null;
      if (allowed || options.countRejected) log.push(nowMs);
      const headers = rateLimitHeaders(windows, log, nowMs, policy, refusedBy);
      if (!allowed) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
      return { allowed, refusedBy, retryAfterMs, headers };
    },
    reset: () => logs.clear(),
  };
}

/** Index of the first entry later than `afterMs` (entries are ascending). */
function firstInWindow(log: number[], afterMs: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((log[mid] ?? 0) > afterMs) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Describes the window that refused, else the one closest to its limit (the quota window on a
 * tie), as the drafts ask. Reset = seconds until the oldest request in that window leaves it.
 */
function rateLimitHeaders(
  windows: Window[],
  log: number[],
  nowMs: number,
  policy: string,
  refusedBy: FakeRateLimitWindowName | null,
): Record<string, string> {
  let closest: { w: Window; remaining: number; resetSeconds: number } | undefined;
  for (const w of refusedBy ? windows.filter((x) => x.name === refusedBy) : windows) {
    const first = firstInWindow(log, nowMs - w.ms);
    const remaining = Math.max(0, w.limit - (log.length - first));
    const oldest = log[first];
    const resetSeconds = oldest === undefined ? 0 : Math.max(0, Math.ceil((oldest + w.ms - nowMs) / 1000));
    if (!closest || remaining < closest.remaining) closest = { w, remaining, resetSeconds };
  }
  if (!closest) return {};
  return {
    'ratelimit-limit': String(closest.w.limit),
    'ratelimit-remaining': String(closest.remaining),
    'ratelimit-reset': String(closest.resetSeconds),
    'ratelimit-policy': policy,
    ratelimit: `"${closest.w.name}";r=${closest.remaining};t=${closest.resetSeconds}`,
  };
}
