/**
 * Resuming the status stream (#17): frames carry ids that name their state, and a client that
 * reconnects with `Last-Event-ID` gets the current state at once — unless it already has it — so
 * the terminal status arrives exactly once across a dropped connection. Both feed kinds.
 */
import { describe, expect, inject, it } from 'vitest';

import type { StatusFeedKind } from '../../../src/http/run-status-feed.js';
import { statusEventId } from '../../../src/http/sse-event-id.js';
import { toStatusView } from '../../../src/http/status-view.js';
import { makeRun } from '../../fixtures/builders.js';
import { type ApiUnderTest, metricValue, startApi } from '../../helpers/api-server.js';
import { createMappedTenant } from '../../helpers/mapped-tenant.js';
import { openSse, type SseClient } from '../../helpers/sse-client.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const caps = inject('caps');
const streamPath = (cid: string) => `/private/notes/migration/status/stream?cid=${cid}`;
let cidSeq = 7600;

function tenant(count: number) {
  return createMappedTenant(t, String(cidSeq++), count);
}

const terminalStatuses = (clients: SseClient[]) =>
  clients.flatMap((c) => c.statuses()).filter((s) => s.status !== 'in_progress');

async function streamsClosed(api: ApiUnderTest) {
  await waitFor(
    () => metricValue(api, 'cnm_sse_streams_open'),
    (n) => n === 0,
    { what: 'every SSE stream to close' },
  );
}

const modes: { kind: StatusFeedKind; skip: boolean; why: string }[] = [
  {
    kind: 'change-streams',
    skip: !caps.changeStreams,
    why: `needs change streams: ${caps.reasons.changeStreams}`,
  },
  { kind: 'polling', skip: false, why: 'always available' },
];

describe.each(modes)('status stream resume with Last-Event-ID ($kind; $why)', ({ kind, skip }) => {
  it.skipIf(skip)(
    'delivers the terminal status exactly once when the connection is killed mid-run and resumed',
    async () => {
      const api = await startApi(t, { feedKind: kind, pollMs: 20 });
      const { cid, crm, h } = await tenant(12);
      const { runId } = await h.trigger({ cid });
      const first = await openSse(api.url, streamPath(cid));
      let second: SseClient | undefined;
      crm.beforePage = async (page) => {
        if (page === 2) {
          // The client has seen page 1's counters; then its connection dies.
          await waitFor(
            () => first.statuses(),
            (s) => s.some((v) => v.notes_processed === 3),
            { what: 'page 1 on the first connection' },
          );
          first.close();
          await first.ended;
        }
        if (page === 4) {
          // Pages 1-3 are written and page 4 waits for this hook: the state holds still.
          await waitFor(
            () => t.repos.runs.get(runId),
            (r) => r?.notes_processed === 9,
            { what: 'pages 1-3 committed' },
          );
          // Reconnect while the run is still going, with the id the first connection saw last.
          second = await openSse(api.url, streamPath(cid), undefined, { lastEventId: first.lastEventId()! });
          await waitFor(
            () => second!.statuses().length,
            (n) => n >= 1,
            { what: 'the current state at once on the resumed connection' },
          );
        }
      };
      try {
        expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });
        await second!.ended;
      } finally {
        await api.close();
      }

      // The resumed stream started from the current state (page 3 done), not from the beginning.
      expect(second!.statuses()[0]).toMatchObject({ status: 'in_progress', notes_processed: 9 });
      expect(first.statuses().some((s) => s.notes_processed === 3)).toBe(true);
      expect(terminalStatuses([first, second!])).toEqual([
        expect.objectContaining({ status: 'completed_success', notes_processed: 12 }),
      ]);
      expect(second!.events.at(-1)).toMatchObject({ event: 'end', data: '{"status":"completed_success"}' });
      // Every status frame has an id naming its body.
      for (const e of [...first.events, ...second!.events].filter((x) => x.event === 'status')) {
        expect(e.id).toBe(statusEventId(JSON.parse(e.data)));
      }
    },
  );
});

describe('status stream ids and Last-Event-ID', () => {
  it('answers only `end` to a client whose Last-Event-ID is already the terminal state', async () => {
    const api = await startApi(t);
    const cid = String(cidSeq++);
    await t.collections.runs.insertOne(makeRun({ _id: `run-${cid}`, cid, status: 'completed_success' }));
    const whole = await openSse(api.url, streamPath(cid));
    await whole.ended;
    expect(whole.events.map((e) => e.event)).toEqual(['status', 'end']);
    const terminalId = whole.lastEventId()!;
    expect(terminalId).toBe(statusEventId(toStatusView(await t.repos.runs.get(`run-${cid}`))));

    // Cut after the terminal frame but before `end` was read: the reconnect must not repeat it.
    const again = await openSse(api.url, streamPath(cid), undefined, { lastEventId: terminalId });
    await again.ended;
    expect(again.events.map((e) => e.event)).toEqual(['end']);
    await api.close();
  });

  it('sends the current state at once for an unknown, stale or malformed Last-Event-ID', async () => {
    const api = await startApi(t);
    const cid = String(cidSeq++);
    await t.collections.runs.insertOne(
      makeRun({ _id: `run-${cid}`, cid, status: 'halted', halt_reason: 'x' }),
    );
    for (const lastEventId of [
      'run-old.0123456789abcdef',
      '42',
      'not_started',
      '<script>',
      ' '.repeat(3),
      'x'.repeat(300),
    ]) {
      const sse = await openSse(api.url, streamPath(cid), undefined, { lastEventId });
      await sse.ended;
      expect(
        sse.events.map((e) => e.event),
        JSON.stringify(lastEventId),
      ).toEqual(['status', 'end']);
      expect(sse.statuses()[0]).toMatchObject({ status: 'halted', halt_reason: 'x' });
    }
    await api.close();
  });

  it('does not repeat a non-terminal state the client already has, and sends the next change', async () => {
    const api = await startApi(t, { pollMs: 20 });
    const cid = String(cidSeq++);
    await t.collections.runs.insertOne(makeRun({ _id: `run-${cid}`, cid, notes_total: 10 }));
    const currentId = statusEventId(toStatusView(await t.repos.runs.get(`run-${cid}`)));
    const sse = await openSse(api.url, streamPath(cid), undefined, { lastEventId: currentId });
    await waitFor(
      () => metricValue(api, 'cnm_sse_streams_open'),
      (n) => n === 1,
      { what: 'the stream to open' },
    );
    await t.collections.runs.updateOne(
      { _id: `run-${cid}` },
      { $set: { notes_processed: 5, progress_pct: 50, updated_at: new Date() } },
    );
    await waitFor(
      () => sse.statuses().length,
      (n) => n >= 1,
      { what: 'the change after the resumed state' },
    );
    expect(sse.statuses()).toEqual([expect.objectContaining({ notes_processed: 5 })]);
    sse.close();
    await streamsClosed(api);
    await api.close();
  });

  it('follows a not_started CID resumed with `not_started` into its first run', async () => {
    const api = await startApi(t, { pollMs: 20 });
    const cid = String(cidSeq++);
    const sse = await openSse(api.url, streamPath(cid), undefined, { lastEventId: 'not_started' });
    await waitFor(
      () => metricValue(api, 'cnm_sse_streams_open'),
      (n) => n === 1,
      { what: 'the stream to open' },
    );
    expect(sse.events).toEqual([]);
    await t.collections.runs.insertOne(makeRun({ _id: `run-${cid}`, cid, status: 'cancelled' }));
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual(['status', 'end']);
    await api.close();
  });
});
