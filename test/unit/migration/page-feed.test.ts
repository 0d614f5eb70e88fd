import { describe, expect, it } from 'vitest';

import { createPageFeed } from '../../../src/migration/page-feed.js';
import type { PagePosition, PageSource, SourcePage } from '../../../src/migration/run-step.js';

interface Call {
  position: PagePosition;
  signal: AbortSignal;
  resolve(): void;
  reject(e: Error): void;
}

/** A numbered source of `pages` pages whose fetches finish only when the test says so. */
function manualSource(pages: number, options: { cursor?: boolean } = {}) {
  const calls: Call[] = [];
  let inFlight = 0;
  let peak = 0;
  const source: PageSource<number> = {
    fetch(position, signal) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      return new Promise<SourcePage<number>>((resolve, reject) => {
        const page = position.page;
        calls.push({
          position,
          signal,
          resolve: () => {
            inFlight--;
            resolve({
              position,
              items: [page],
              total: pages,
              totalPages: pages,
              next:
                page >= pages ? null : { page: page + 1, cursor: options.cursor ? `after-${page}` : null },
            });
          },
          reject: (e) => {
            inFlight--;
            reject(e);
          },
        });
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    },
    ...(options.cursor ? {} : { positionAfter: (p: PagePosition) => ({ page: p.page + 1, cursor: null }) }),
  };
  return { source, calls, peak: () => peak };
}

const tick = () => new Promise((r) => setImmediate(r));
const start = { page: 1, cursor: null };

describe('page feed (pipelined pages, DESIGN.md §11.8)', () => {
  it('asks only for the first page until it says how many there are, then keeps k pages in flight', async () => {
    const s = manualSource(6);
    const feed = createPageFeed(s.source, start, { prefetch: 2, signal: new AbortController().signal });
    const first = feed.next();
    await tick();
    expect(s.calls.map((c) => c.position.page)).toEqual([1]);
    s.calls[0]!.resolve();
    expect((await first)?.items).toEqual([1]);
    await tick();
    // While page 1 is worked on, pages 2 and 3 are fetched.
    expect(s.calls.map((c) => c.position.page)).toEqual([1, 2, 3]);
    feed.close();
  });

  it('hands pages out strictly in order even when later ones arrive first, and never more than k in flight', async () => {
    const s = manualSource(5);
    const feed = createPageFeed(s.source, start, { prefetch: 2, signal: new AbortController().signal });
    const got: number[] = [];
    const first = feed.next();
    await tick();
    s.calls[0]!.resolve();
    got.push(...((await first)?.items ?? []));
    await tick();
    // Page 3 arrives before page 2.
    s.calls[2]!.resolve();
    const second = feed.next();
    await tick();
    s.calls[1]!.resolve();
    got.push(...((await second)?.items ?? []));
    for (;;) {
      await tick();
      for (const c of s.calls) c.resolve();
      const p = await feed.next();
      if (!p) break;
      got.push(...p.items);
    }
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(s.peak()).toBeLessThanOrEqual(3);
    // Nothing is fetched past the last page.
    expect(Math.max(...s.calls.map((c) => c.position.page))).toBe(5);
  });

  it('with prefetch 0 fetches a page only when it is asked for', async () => {
    const s = manualSource(3);
    const feed = createPageFeed(s.source, start, { prefetch: 0, signal: new AbortController().signal });
    const first = feed.next();
    await tick();
    s.calls[0]!.resolve();
    await first;
    await tick();
    expect(s.calls).toHaveLength(1);
    const second = feed.next();
    await tick();
    expect(s.calls).toHaveLength(2);
    s.calls[1]!.resolve();
    expect((await second)?.items).toEqual([2]);
    feed.close();
  });

  it('fetches a cursor source one page ahead at most, from the cursor the page gave', async () => {
    const s = manualSource(3, { cursor: true });
    const feed = createPageFeed(s.source, start, { prefetch: 4, signal: new AbortController().signal });
    const first = feed.next();
    await tick();
    s.calls[0]!.resolve();
    await first;
    await tick();
    expect(s.calls.map((c) => c.position)).toEqual([start, { page: 2, cursor: 'after-1' }]);
  });

  it('close() aborts every fetch in flight, and a dropped page’s failure never goes unhandled', async () => {
    const s = manualSource(10);
    const feed = createPageFeed(s.source, start, { prefetch: 3, signal: new AbortController().signal });
    const first = feed.next();
    await tick();
    s.calls[0]!.resolve();
    await first;
    await tick();
    expect(s.calls.slice(1).every((c) => !c.signal.aborted)).toBe(true);
    feed.close();
    expect(s.calls.slice(1).every((c) => c.signal.aborted)).toBe(true);
    expect(await feed.next()).toBeNull();
  });

  it('aborts its fetches when the run’s signal fires (lease lost)', async () => {
    const s = manualSource(10);
    const lease = new AbortController();
    const feed = createPageFeed(s.source, start, { prefetch: 2, signal: lease.signal });
    const first = feed.next();
    await tick();
    lease.abort(new Error('lease lost'));
    await expect(first).rejects.toThrow('aborted');
    expect(s.calls[0]!.signal.aborted).toBe(true);
  });

  it('surfaces a page’s fetch error when that page is taken, not before', async () => {
    const s = manualSource(4);
    const feed = createPageFeed(s.source, start, { prefetch: 2, signal: new AbortController().signal });
    const first = feed.next();
    await tick();
    s.calls[0]!.resolve();
    await first;
    await tick();
    s.calls[2]!.reject(new Error('page 3 failed'));
    s.calls[1]!.resolve();
    expect((await feed.next())?.items).toEqual([2]);
    // The loop names the failed page by asking first.
    expect(feed.nextPosition()).toMatchObject({ page: 3 });
    await expect(feed.next()).rejects.toThrow('page 3 failed');
    feed.close();
  });
});
