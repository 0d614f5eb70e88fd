/**
 * `Retry-After` (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date. Pure: the caller passes
 * the clock, so a test can pin "now".
 */

/**
 * Milliseconds to wait, or null when the header is absent or unreadable (the caller then uses its
 * own backoff). A date in the past means "now" (0).
 */
export function tryParseRetryAfterMs(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : null;
  }
  // All three HTTP-date forms start with a day name; this keeps Date.parse from reading "1.5" as a year.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}
