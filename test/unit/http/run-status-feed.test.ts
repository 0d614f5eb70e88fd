import type { ChangeStream, ChangeStreamDocument } from 'mongodb';
import { describe, expect, it } from 'vitest';

import type { RunDoc } from '../../../src/db/documents.js';
import { createRunStatusFeed, type StatusFeedKind } from '../../../src/http/run-status-feed.js';
import type { StatusView } from '../../../src/http/status-view.js';
import { createSilentLogger } from '../../../src/logger.js';
import { makeRun } from '../../fixtures/builders.js';

/** A change stream fed by the test. */
function fakeStream() {
  const queue: ChangeStreamDocument<RunDoc>[] = [];
  let waiter: { resolve: (e: ChangeStreamDocument<RunDoc>) => void; reject: (e: Error) => void } | undefined;
  const s = {
    closed: false,
    failNext: undefined as Error | undefined,
    push(doc: RunDoc) {
      const event = { operationType: 'update', fullDocument: doc } as unknown as ChangeStreamDocument<RunDoc>;
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w.resolve(event);
      } else queue.push(event);
    },
    fail(e: Error) {
      waiter?.reject(e);
      waiter = undefined;
    },
    tryNext: () => Promise.resolve(queue.shift() ?? null),
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift()!)
        : new Promise<ChangeStreamDocument<RunDoc>>((resolve, reject) => (waiter = { resolve, reject })),
    close() {
      s.closed = true;
      s.fail(new Error('ChangeStream is closed'));
      return Promise.resolve();
    },
  };
  return s;
}

function setup(kind: StatusFeedKind, initial: RunDoc | null) {
  let latest = initial;
  let reads = 0;
  const streams: ReturnType<typeof fakeStream>[] = [];
  const events: string[] = [];
  const feed = createRunStatusFeed({
    kind,
    pollMs: 5,
    logger: createSilentLogger(),
    observer: {
      changeStreamOpened: () => events.push('open'),
      changeStreamClosed: () => events.push('close'),
    },
    runs: {
      latestForCid: () => {
        reads++;
        return Promise.resolve(latest);
      },
      watchCid: () => {
        const s = fakeStream();
        streams.push(s);
        return s as unknown as ChangeStream<RunDoc, ChangeStreamDocument<RunDoc>>;
      },
    },
  });
  return {
    feed,
    streams,
    events,
    set: (run: RunDoc | null) => (latest = run),
    reads: () => reads,
  };
}

async function take(it: AsyncGenerator<StatusView>, n: number): Promise<StatusView[]> {
  const out: StatusView[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('run status feed (polling)', () => {
  it('yields the current status, then only changes, and ends after a terminal status', async () => {
    const s = setup('polling', makeRun({ _id: 'r', progress_pct: 0 }));
    const abort = new AbortController();
    const it = s.feed.watch('100', abort.signal);
    expect((await take(it, 1))[0]).toMatchObject({ status: 'in_progress', progress_pct: 0 });
    s.set(makeRun({ _id: 'r', progress_pct: 50, updated_at: new Date(1) }));
    expect((await take(it, 1))[0]).toMatchObject({ progress_pct: 50 });
    const readsAt50 = s.reads();
    s.set(makeRun({ _id: 'r', status: 'completed_success', progress_pct: 100, updated_at: new Date(2) }));
    expect((await take(it, 1))[0]).toMatchObject({ status: 'completed_success' });
    expect(s.reads()).toBeGreaterThan(readsAt50);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('ends when the caller aborts', async () => {
    const s = setup('polling', makeRun());
    const abort = new AbortController();
    const it = s.feed.watch('100', abort.signal);
    await take(it, 1);
    const pending = it.next();
    abort.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});

describe('run status feed (change streams)', () => {
  it('pushes each change of the latest run, ignores older runs, follows a newer one, and closes its stream at the end', async () => {
    const s = setup('change-streams', makeRun({ _id: 'r1', created_at: new Date(1000) }));
    const abort = new AbortController();
    const it = s.feed.watch('100', abort.signal);
    expect((await take(it, 1))[0]).toMatchObject({ run_id: 'r1' });
    const next = it.next();
    await new Promise((r) => setImmediate(r));
    expect(s.feed.openChangeStreams).toBe(1);
    const stream = s.streams[0]!;
    stream.push(makeRun({ _id: 'old', created_at: new Date(1), progress_pct: 99 }));
    stream.push(makeRun({ _id: 'r1', created_at: new Date(1000), progress_pct: 40 }));
    expect((await next).value).toMatchObject({ run_id: 'r1', progress_pct: 40 });
    stream.push(makeRun({ _id: 'r2', created_at: new Date(2000) }));
    expect((await it.next()).value).toMatchObject({ run_id: 'r2', progress_pct: 0 });
    stream.push(makeRun({ _id: 'r2', created_at: new Date(2000), status: 'cancelled' }));
    expect((await it.next()).value).toMatchObject({ run_id: 'r2', status: 'cancelled' });
    expect((await it.next()).done).toBe(true);
    expect(stream.closed).toBe(true);
    expect(s.feed.openChangeStreams).toBe(0);
    expect(s.events).toEqual(['open', 'close']);
  });

  it('closes the stream when the caller aborts while waiting for a change', async () => {
    const s = setup('change-streams', makeRun());
    const abort = new AbortController();
    const it = s.feed.watch('100', abort.signal);
    await take(it, 1);
    const pending = it.next();
    await new Promise((r) => setImmediate(r));
    abort.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(s.streams[0]?.closed).toBe(true);
    expect(s.feed.openChangeStreams).toBe(0);
  });

  it('falls back to polling when the change stream fails, without ending the feed', async () => {
    const s = setup('change-streams', makeRun({ _id: 'r' }));
    const abort = new AbortController();
    const it = s.feed.watch('100', abort.signal);
    await take(it, 1);
    const pending = it.next();
    await new Promise((r) => setImmediate(r));
    s.streams[0]!.fail(new Error('cursor killed'));
    s.set(makeRun({ _id: 'r', progress_pct: 70, updated_at: new Date(5) }));
    expect((await pending).value).toMatchObject({ progress_pct: 70 });
    abort.abort();
    expect((await it.next()).done).toBe(true);
    expect(s.feed.openChangeStreams).toBe(0);
  });

  it('throws from the first next() when the status cannot be read', async () => {
    const feed = createRunStatusFeed({
      kind: 'change-streams',
      pollMs: 5,
      logger: createSilentLogger(),
      runs: {
        latestForCid: () => Promise.reject(new Error('db down')),
        watchCid: () => {
          throw new Error('not reached');
        },
      },
    });
    await expect(feed.watch('1', new AbortController().signal).next()).rejects.toThrow('db down');
    expect(feed.openChangeStreams).toBe(0);
  });
});
