/**
 * Source pages in order, fetched ahead (DESIGN.md §11.8): up to `prefetch` pages in flight, so a
 * slow CRM's latency overlaps the database work of earlier pages. Pages come out strictly in
 * order; a page fetched ahead and never taken (halt, cancel, lease lost, shutdown) is dropped
 * by `close()`, which aborts what is still in flight. A source that cannot say where the next
 * page starts before it has the current one (a cursor) is fetched one page ahead at most.
 */
import type { PagePosition, PageSource, SourcePage } from './run-step.js';

export interface PageFeed<Item> {
  /** The next page in order, or null after the last one. Rejects with the source's error. */
  next(): Promise<SourcePage<Item> | null>;
  /** Where the page `next()` returns starts (null when none follows): names a page whose fetch failed. */
  nextPosition(): PagePosition | null;
  /** Aborts every fetch still in flight; pages not taken are dropped. Idempotent. */
  close(): void;
}

export interface PageFeedOptions {
  /** CRM pages in flight at most (0: fetch a page only when it is asked for). */
  prefetch: number;
  /** Aborted when the run must stop (lease lost): every fetch is aborted with it. */
  signal: AbortSignal;
}

interface Pending<Item> {
  position: PagePosition;
  page: Promise<SourcePage<Item>>;
}

export function createPageFeed<Item>(
  source: PageSource<Item>,
  start: PagePosition,
  options: PageFeedOptions,
): PageFeed<Item> {
  const aborter = new AbortController();
  const stop = () => aborter.abort(options.signal.reason ?? new Error('page feed closed'));
  options.signal.addEventListener('abort', stop, { once: true });
  const queue: Pending<Item>[] = [];
  /** The position after the last one queued; null when no page follows it or it is not known yet. */
  let upcoming: PagePosition | null = start;
  /** Known from the first page that arrived: nothing is fetched ahead past the last page. */
  let lastPage: number | null = null;
  let finished = false;

  const issue = (position: PagePosition) => {
    const page = source.fetch(position, aborter.signal).then((p) => {
      if (p.totalPages !== null) lastPage = p.totalPages;
      return p;
    });
    // A page fetched ahead may be dropped unawaited: its failure must not become unhandled.
    page.catch(() => undefined);
    queue.push({ position, page });
    upcoming = source.positionAfter ? source.positionAfter(position) : null;
  };

  /** Tops the queue up to `target` pages in flight, within the known last page. */
  const fill = (target: number) => {
    while (!aborter.signal.aborted && upcoming && queue.length < target) {
      const beyondLast = lastPage !== null && upcoming.page > Math.max(lastPage, 1);
      // Before the first page says how many there are, only that page is asked for.
      const unknownLength = lastPage === null && queue.length > 0;
      if (beyondLast || unknownLength) return;
      issue(upcoming);
    }
  };

  return {
    async next() {
      if (finished) return null;
      fill(1);
      const head = queue.shift();
      if (!head) return null;
      const page = await head.page;
      if (page.next === null) {
        finished = true;
        close();
        return page;
      }
      // The source's own word on where the next page starts wins over the prediction.
      if (!source.positionAfter || queue.length === 0) {
        queue.length = 0;
        upcoming = page.next;
      }
      // While the caller works on this page, up to `prefetch` of the next ones are fetched.
      fill(options.prefetch);
      return page;
    },
    nextPosition: () => (finished ? null : (queue[0]?.position ?? upcoming)),
    close,
  };

  function close() {
    options.signal.removeEventListener('abort', stop);
    queue.length = 0;
    if (!aborter.signal.aborted) aborter.abort(new Error('page feed closed'));
  }
}
