import { describe, expect, it } from 'vitest';

import { tryParseRetryAfterMs } from '../../../src/crm/retry-after.js';

const NOW = new Date('2024-05-01T10:00:00Z');

describe('tryParseRetryAfterMs', () => {
  it('reads delay-seconds', () => {
    expect(tryParseRetryAfterMs('7', NOW)).toBe(7000);
    expect(tryParseRetryAfterMs(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP-date relative to the injected clock', () => {
    expect(tryParseRetryAfterMs('Wed, 01 May 2024 10:00:05 GMT', NOW)).toBe(5000);
  });

  it('treats an HTTP-date in the past as now', () => {
    expect(tryParseRetryAfterMs('Wed, 01 May 2024 09:00:00 GMT', NOW)).toBe(0);
  });

  it.each([undefined, '', 'soon', '1.5', '-3', 'Someday, 99 Foo'])('returns null for %j', (value) => {
    expect(tryParseRetryAfterMs(value, NOW)).toBeNull();
  });
});
