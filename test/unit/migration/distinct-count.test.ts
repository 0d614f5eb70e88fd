import { describe, expect, it } from 'vitest';

import {
  addDistinct,
  distinctCountOf,
  EMPTY_DISTINCT_COUNT,
  EXACT_IDS_MAX,
} from '../../../src/migration/distinct-count.js';

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `p${from + i}`);

describe('distinct count (forecast persons, #13)', () => {
  it('counts exactly while there are few ids, and adding an id twice changes nothing', () => {
    let doc = addDistinct(EMPTY_DISTINCT_COUNT, ids(0, 300));
    doc = addDistinct(doc, ids(100, 300));
    expect(distinctCountOf(doc)).toEqual({ count: 400, exact: true });
    expect(addDistinct(doc, ids(0, 400))).toEqual(doc);
  });

  it('switches to a sketch past EXACT_IDS_MAX and estimates within 3 %', () => {
    let doc = EMPTY_DISTINCT_COUNT;
    for (let page = 0; page < 100; page++) doc = addDistinct(doc, ids(page * 250, 500)); // 25,250 distinct
    expect(doc.ids).toBeNull();
    const { count, exact } = distinctCountOf(doc);
    expect(exact).toBe(false);
    expect(Math.abs(count - 25_250) / 25_250).toBeLessThan(0.03);
    expect(JSON.stringify(doc).length).toBeLessThan(6_000);
  });

  it('gives the same sketch whether a page is added once or replayed after a crash', () => {
    const base = addDistinct(EMPTY_DISTINCT_COUNT, ids(0, EXACT_IDS_MAX + 1));
    const once = addDistinct(base, ids(5000, 500));
    expect(addDistinct(once, ids(5000, 500))).toEqual(once);
    expect(distinctCountOf(base).count).toBeGreaterThan(EXACT_IDS_MAX * 0.97);
  });
});
