import { describe, expect, inject, it } from 'vitest';

import type { CrmNote } from '../../../src/crm/crm-note.js';
import type { StatusFeedKind } from '../../../src/http/run-status-feed.js';
import { createLogger } from '../../../src/logger.js';
import type { NormalizeHtml } from '../../../src/migration/pipeline-ports.js';
import { makeCreatorUser, makeCrmNote, makeRun } from '../../fixtures/builders.js';
import { type ApiUnderTest, call, metricValue, startApi } from '../../helpers/api-server.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { openSse } from '../../helpers/sse-client.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const caps = inject('caps');

const passThrough: NormalizeHtml = (html) => ({ ok: true, html, hasVisibleText: true });

let cidSeq = 7000;

/** A tenant of `count` notes, all mappable, paged by 3. */
async function tenant(count: number) {
  const cid = String(cidSeq++);
  const companySsoId = `co-${cid}`;
  const notes: CrmNote[] = Array.from({ length: count }, (_, i) =>
    makeCrmNote({ id: String(i + 1), crmPersonId: String(9000 + i), creatorId: '7' }),
  );
  await t.collections.contacts.insertMany(
    notes.map((n, i) => ({
      _id: `${cid}-c${i}`,
      company_sso_id: companySsoId,
      crm_data: { id: n.crmPersonId! },
    })),
  );
  await t.collections.users.insertOne(makeCreatorUser(companySsoId));
  const crm = createMemoryCrm(notes);
  const h = createRunHarness({ repos: t.repos, extractor: crm, normalizeHtml: passThrough, pageSize: 3 });
  await h.enableFlag(cid);
  return { cid, crm, h };
}

const streamPath = (cid: string) => `/private/notes/migration/status/stream?cid=${cid}`;

async function gaugesBackToZero(api: ApiUnderTest) {
  await waitFor(
    async () => ({
      sse: await metricValue(api, 'cnm_sse_streams_open'),
      cs: await metricValue(api, 'cnm_status_change_streams_open'),
      feed: api.feed.openChangeStreams,
    }),
    (v) => v.sse === 0 && v.cs === 0 && v.feed === 0,
    { what: 'open SSE streams and change streams to return to 0' },
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

describe.each(modes)('live status over SSE ($kind; $why)', ({ kind, skip }) => {
  it.skipIf(skip)(
    'delivers an event per page while status moves forward, then the final status and end',
    async () => {
      const logLines: string[] = [];
      const logger = createLogger({
        level: 'warn',
        destination: { write: (l: string) => void logLines.push(l) },
      });
      const api = await startApi(t, { feedKind: kind, pollMs: 20, logger });
      const { cid, crm, h } = await tenant(9);
      const { runId } = await h.trigger({ cid });
      const sse = await openSse(api.url, streamPath(cid));
      expect(sse.status).toBe(200);
      expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
      await waitFor(
        () => sse.statuses().length,
        (n) => n >= 1,
        { what: 'the first status event' },
      );
      expect(sse.statuses()[0]).toMatchObject({ status: 'in_progress', run_id: runId, notes_processed: 0 });

      const polled: number[] = [];
      crm.beforePage = async (page) => {
        // Each page starts only after the client saw the previous one: one event per page, provably.
        const expected = (page - 1) * 3;
        await waitFor(
          () => sse.statuses(),
          (s) => s.some((v) => v.notes_processed === expected),
          { what: `an SSE event with notes_processed=${expected}` },
        );
        polled.push((await call(api, 'GET', `/private/notes/migration/status?cid=${cid}`)).json.progress_pct);
      };
      expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });
      await sse.ended;

      expect(polled).toEqual([0, 33.33, 66.67].map((p) => expect.closeTo(p, 1)));
      const statuses = sse.statuses();
      const processed = statuses.map((s) => s.notes_processed);
      for (const n of [0, 3, 6, 9]) expect(processed).toContain(n);
      expect(processed).toEqual([...processed].sort((a, b) => a - b));
      const pct = statuses.map((s) => s.progress_pct);
      expect(pct).toEqual([...pct].sort((a, b) => a - b));
      expect(statuses.at(-1)).toMatchObject({ status: 'completed_success', progress_pct: 100, match_pct: 1 });
      expect(sse.events.at(-1)).toMatchObject({ event: 'end', data: '{"status":"completed_success"}' });
      // No silent fallback: the change-stream feed really pushed.
      expect(logLines.join('')).not.toContain('polling instead');
      await gaugesBackToZero(api);
      await api.close();
    },
  );

  it.skipIf(skip)('closes the change stream when the client disconnects mid-run', async () => {
    const api = await startApi(t, { feedKind: kind, pollMs: 20 });
    const cid = String(cidSeq++);
    await t.collections.runs.insertOne(makeRun({ _id: `run-${cid}`, cid }));
    const clients = await Promise.all([openSse(api.url, streamPath(cid)), openSse(api.url, streamPath(cid))]);
    for (const c of clients)
      await waitFor(
        () => c.statuses().length,
        (n) => n >= 1,
        { what: 'first event' },
      );
    const expectedStreams = kind === 'change-streams' ? 2 : 0;
    await waitFor(
      () => metricValue(api, 'cnm_sse_streams_open'),
      (n) => n === 2,
      { what: '2 open SSE streams' },
    );
    await waitFor(
      () => api.feed.openChangeStreams,
      (n) => n === expectedStreams,
      { what: `${expectedStreams} open change streams` },
    );
    expect(await metricValue(api, 'cnm_status_change_streams_open')).toBe(expectedStreams);

    for (const c of clients) c.close();
    await gaugesBackToZero(api);
    // The run goes on; nobody is listening any more.
    await t.collections.runs.updateOne(
      { _id: `run-${cid}` },
      { $set: { progress_pct: 50, updated_at: new Date() } },
    );
    expect(api.feed.openChangeStreams).toBe(0);
    await api.close();
  });

  it.skipIf(skip)('follows a CID from not_started through a new run to its end', async () => {
    const api = await startApi(t, { feedKind: kind, pollMs: 20 });
    const { cid, h } = await tenant(3);
    const sse = await openSse(api.url, streamPath(cid));
    await waitFor(
      () => sse.statuses().length,
      (n) => n >= 1,
      { what: 'first event' },
    );
    expect(sse.statuses()[0]).toEqual({ status: 'not_started' });
    const { runId } = await h.trigger({ cid });
    await waitFor(
      () => sse.statuses(),
      (s) => s.some((v) => v.run_id === runId),
      { what: 'the new run to show up' },
    );
    await h.execute(runId);
    await sse.ended;
    expect(sse.statuses().at(-1)).toMatchObject({ status: 'completed_success', run_id: runId });
    await gaugesBackToZero(api);
    await api.close();
  });
});

describe('SSE stream lifecycle', () => {
  it('sends one event and ends at once for a CID whose latest run is terminal', async () => {
    const api = await startApi(t);
    const cid = String(cidSeq++);
    await t.collections.runs.insertOne(
      makeRun({ _id: `run-${cid}`, cid, status: 'halted', halt_reason: 'too many' }),
    );
    const sse = await openSse(api.url, streamPath(cid));
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual(['status', 'end']);
    expect(sse.statuses()[0]).toMatchObject({ status: 'halted', halt_reason: 'too many' });
    await api.close();
  });

  it('sends heartbeat comments while nothing changes', async () => {
    const api = await startApi(t, { config: { sseHeartbeatMs: 30 } });
    const cid = String(cidSeq++);
    await t.collections.runs.insertOne(makeRun({ _id: `run-${cid}`, cid }));
    const sse = await openSse(api.url, streamPath(cid));
    await waitFor(
      () => sse.comments.filter((c) => c === 'ping').length,
      (n) => n >= 2,
      { what: 'two heartbeats' },
    );
    expect(sse.statuses()).toHaveLength(1);
    sse.close();
    await gaugesBackToZero(api);
    await api.close();
  });

  it('ends open streams when the server closes, without waiting for the run', async () => {
    const kind: StatusFeedKind = caps.changeStreams ? 'change-streams' : 'polling';
    const api = await startApi(t, { feedKind: kind });
    const cid = String(cidSeq++);
    await t.collections.runs.insertOne(makeRun({ _id: `run-${cid}`, cid }));
    const sse = await openSse(api.url, streamPath(cid));
    await waitFor(
      () => sse.statuses().length,
      (n) => n >= 1,
      { what: 'first event' },
    );
    const started = Date.now();
    await api.close();
    await sse.ended;
    expect(Date.now() - started).toBeLessThan(1_500);
    await waitFor(
      () => api.feed.openChangeStreams,
      (n) => n === 0,
      { what: 'change streams closed' },
    );
    expect(
      (await api.metrics.registry.getSingleMetric('cnm_sse_streams_open')?.get())?.values[0]?.value,
    ).toBe(0);
  });

  it('answers a JSON error, not a stream, when the status cannot be read', async () => {
    const api = await startApi(t, {
      override: (deps) => ({
        ...deps,
        statusSource: {
          kind: 'polling',
          openChangeStreams: 0,
          // eslint-disable-next-line require-yield
          watch: async function* () {
            await Promise.reject(new Error('database down'));
          },
        },
      }),
    });
    const res = await call(api, 'GET', streamPath('5'));
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: 'INTERNAL', message: expect.any(String), details: {} });
    await api.close();
  });
});
