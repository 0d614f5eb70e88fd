import { describe, expect, it } from 'vitest';

import { assertFaultOptions, pickShareFault } from '../../../../src/crm/fake/fake-crm-faults.js';

describe('fake CRM faults', () => {
  it('injects each fault at about its share, the same way for the same seed', () => {
    const options = { seed: 4, serverErrorShare: 0.2, rateLimitShare: 0.1, dropShare: 0.05, retryAfter: '2' };
    const kinds = (seed: number) =>
      Array.from({ length: 10_000 }, (_, seq) => {
        const f = pickShareFault({ ...options, seed }, seq);
        return f === null
          ? 'none'
          : f.kind === 'status'
            ? `status ${f.status === 429 ? 429 : '5xx'}`
            : f.kind;
      });
    const first = kinds(4);
    expect(kinds(4)).toEqual(first);
    const share = (k: string) => first.filter((x) => x === k).length / first.length;
    expect(share('status 5xx')).toBeCloseTo(0.2, 1);
    expect(share('status 429')).toBeCloseTo(0.1, 1);
    expect(share('drop')).toBeCloseTo(0.05, 1);
    expect(share('none')).toBeCloseTo(0.65, 1);
    expect(pickShareFault(options, first.indexOf('status 429'))).toEqual({
      kind: 'status',
      status: 429,
      retryAfter: '2',
    });
  });

  it('injects nothing with no shares', () => {
    expect(Array.from({ length: 1000 }, (_, i) => pickShareFault({}, i)).every((f) => f === null)).toBe(true);
  });

  it('refuses shares that add up to more than 1', () => {
    expect(() => assertFaultOptions({ serverErrorShare: 0.7, slowShare: 0.6 })).toThrow(/at most 1/);
  });
});
