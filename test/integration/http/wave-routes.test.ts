/**
 * The wave routes over a real port (#16): create, list, show, stream, pause/resume/cancel; hostile
 * bodies and paths (nothing written), N concurrent creations and state changes (one winner).
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { MIGRATION_FLAG } from '../../../src/domain.js';
import { type ApiUnderTest, call, startApi } from '../../helpers/api-server.js';
import { openSse } from '../../helpers/sse-client.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
let api: ApiUnderTest;
let cidSeq = 63_000;

beforeAll(async () => {
  api = await startApi(t, { scope: 'file', pollMs: 50 });
});
afterAll(() => api.close());
beforeEach(async () => {
  await t.collections.waves.deleteMany({});
});

const members = (n: number) =>
  Array.from({ length: n }, () => {
    const cid = String(++cidSeq);
    return { cid, company_sso_id: `co-${cid}` };
  });

async function create(body: unknown) {
  return call(api, 'POST', '/private/notes/waves', { body });
}

describe('POST /private/notes/waves', () => {
  it('creates a wave: 201 with its id and Location, its scheduler job enqueued, the members pending', async () => {
    const list = members(3);
    const res = await create({ members: list, max_parallel_tenants: 2 });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ wave_id: expect.any(String), state: 'running', members: 3 });
    expect(res.headers.location).toBe(`/private/notes/waves/${res.json.wave_id}`);
    expect(api.waveJobs).toMatchObject({
      jobs: expect.arrayContaining([{ wave_id: res.json.wave_id, generation: 1, jobId: expect.any(String) }]),
    });
    const shown = await call(api, 'GET', `/private/notes/waves/${res.json.wave_id}`);
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({
      wave_id: res.json.wave_id,
      kind: 'migrate',
      state: 'running',
      canary: { count: 1, gate: 'waiting', members: [] },
      max_parallel_tenants: 2,
      stop_after_failed_tenants: 1,
      counts: { members: 3, pending: 3, running: 0 },
      notes: { processed: 0, total_known: 0, members_with_unknown_total: 3 },
      created_by: 'ops',
      pause: null,
    });
    expect(shown.json.members.map((m: { cid: string }) => m.cid)).toEqual(list.map((m) => m.cid));
    const listed = await call(api, 'GET', '/private/notes/waves?limit=5');
    expect(listed.json.items[0]).toMatchObject({ wave_id: res.json.wave_id, state: 'running' });
  });

  it('creates a dry-run wave (kind dry_run) and refuses the CLI spelling and kinds a wave cannot carry', async () => {
    const res = await create({ members: members(2), max_parallel_tenants: 1, kind: 'dry_run', canary: 0 });
    expect(res.status).toBe(201);
    const shown = await call(api, 'GET', `/private/notes/waves/${res.json.wave_id}`);
    expect(shown.json).toMatchObject({ kind: 'dry_run', canary: { count: 0, gate: 'none' } });
    for (const kind of ['dry-run', 'DRY_RUN', 'rollback', '']) {
      const refused = await create({ members: members(1), max_parallel_tenants: 1, kind });
      expect([kind, refused.status, refused.json?.error]).toEqual([kind, 400, 'VALIDATION_ERROR']);
    }
    expect(await t.collections.waves.countDocuments()).toBe(1);
  });

  it('refuses hostile and broken bodies with 400/413/415 and writes nothing', async () => {
    const ok = members(2);
    const bodies: [string, unknown][] = [
      ['no members', { max_parallel_tenants: 1 }],
      ['members not an array', { members: { cid: '1' }, max_parallel_tenants: 1 }],
      ['no member', { members: [], max_parallel_tenants: 1 }],
      [
        'operator injection as cid',
        { members: [{ cid: { $ne: null }, company_sso_id: 'co' }], max_parallel_tenants: 1 },
      ],
      ['leading zero cid', { members: [{ cid: '012', company_sso_id: 'co' }], max_parallel_tenants: 1 }],
      ['negative cid', { members: [{ cid: -5, company_sso_id: 'co' }], max_parallel_tenants: 1 }],
      ['script as company', { members: [{ cid: '5', company_sso_id: '<script>' }], max_parallel_tenants: 1 }],
      ['extra member field', { members: [{ ...ok[0], extra: 1 }], max_parallel_tenants: 1 }],
      [
        '__proto__ member field',
        JSON.parse(
          '{"members":[{"cid":"9","company_sso_id":"co","__proto__":{"x":1}}],"max_parallel_tenants":1}',
        ),
      ],
      ['duplicate cids', { members: [ok[0], ok[0]], max_parallel_tenants: 1 }],
      ['canary above members', { members: ok, canary: 3, max_parallel_tenants: 1 }],
      ['negative canary', { members: ok, canary: -1, max_parallel_tenants: 1 }],
      ['no max_parallel_tenants', { members: ok }],
      ['zero parallel', { members: ok, max_parallel_tenants: 0 }],
      ['fractional parallel', { members: ok, max_parallel_tenants: 1.5 }],
      ['parallel as a string', { members: ok, max_parallel_tenants: '4' }],
      ['huge parallel', { members: ok, max_parallel_tenants: 1e9 }],
      ['stop rule zero', { members: ok, max_parallel_tenants: 1, stop_after_failed_tenants: 0 }],
      ['unknown kind', { members: ok, max_parallel_tenants: 1, kind: 'rollback' }],
      ['unknown field', { members: ok, max_parallel_tenants: 1, dry: true }],
      ['an array body', [ok]],
      ['null body', null],
    ];
    for (const [what, body] of bodies) {
      const res = await create(body);
      expect([what, res.status, res.json?.error]).toEqual([what, 400, 'VALIDATION_ERROR']);
    }
    const tooMany = {
      members: Array.from({ length: 5_001 }, (_, i) => ({ cid: String(i + 1), company_sso_id: `c${i}` })),
      max_parallel_tenants: 1,
    };
    expect((await create(tooMany)).json?.error).toBe('VALIDATION_ERROR');
    const raw = (text: string, type = 'application/json') =>
      call(api, 'POST', '/private/notes/waves', { raw: text, headers: { 'content-type': type } });
    expect((await raw('{"members": [')).status).toBe(400);
    expect((await raw('cid,company_sso_id\n1,co', 'text/csv')).status).toBe(415);
    expect((await raw(JSON.stringify({ members: [], pad: 'x'.repeat(1024 * 1024) }))).status).toBe(413);
    expect(await t.collections.waves.countDocuments()).toBe(0);
  });

  it('refuses a wave whose CID is in another wave that has not ended: 409 WAVE_MEMBER_BUSY naming it', async () => {
    const list = members(3);
    const first = await create({ members: list.slice(0, 2), max_parallel_tenants: 1 });
    const second = await create({ members: list.slice(1), max_parallel_tenants: 1 });
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({
      error: 'WAVE_MEMBER_BUSY',
      details: { busy: [{ cid: list[1]!.cid, wave_id: first.json.wave_id }] },
    });
  });

  it('creates exactly one of N concurrent waves with the same tenants, and all of N disjoint ones', async () => {
    const list = members(4);
    const same = await Promise.all(
      Array.from({ length: 8 }, () => create({ members: list, max_parallel_tenants: 2 })),
    );
    expect(same.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const disjoint = await Promise.all(
      Array.from({ length: 6 }, () => create({ members: members(3), max_parallel_tenants: 2 })),
    );
    expect(disjoint.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(await t.collections.waves.countDocuments()).toBe(7);
  });
});

describe('GET /private/notes/waves/:wave_id', () => {
  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    for (const id of ['abc', '%24where', '1%20OR%201', `${randomUUID()}x`, randomUUID().toUpperCase()]) {
      const res = await call(api, 'GET', `/private/notes/waves/${id}`);
      expect([id, res.status, res.json?.error]).toEqual([id, 400, 'VALIDATION_ERROR']);
    }
    expect((await call(api, 'GET', `/private/notes/waves/${randomUUID()}`)).json?.error).toBe('NOT_FOUND');
    expect((await call(api, 'GET', `/private/notes/waves/${randomUUID()}/stream`)).status).toBe(404);
    expect((await call(api, 'GET', '/private/notes/waves?limit=0')).status).toBe(400);
  });
});

describe('pause, resume, cancel', () => {
  it('moves the wave through its states; a wrong state is 409 WAVE_STATE_CONFLICT; bodies other than {} are refused', async () => {
    const { json } = await create({ members: members(2), max_parallel_tenants: 1 });
    const path = (a: string) => `/private/notes/waves/${json.wave_id}/${a}`;
    expect((await call(api, 'POST', path('resume'))).json).toMatchObject({
      error: 'WAVE_STATE_CONFLICT',
      details: { state: 'running' },
    });
    expect((await call(api, 'POST', path('pause'), { body: { now: true } })).status).toBe(400);
    expect(
      (await call(api, 'POST', path('pause'), { raw: 'x', headers: { 'content-type': 'text/plain' } }))
        .status,
    ).toBe(415);
    const paused = await call(api, 'POST', path('pause'));
    expect(paused.json).toMatchObject({ state: 'paused', pause: { cause: 'operator', by: 'ops' } });
    const resumed = await call(api, 'POST', path('resume'), { body: {} });
    expect(resumed.json).toMatchObject({ state: 'running', generation: 2, pause: null });
    const cancelled = await call(api, 'POST', path('cancel'));
    expect(cancelled.json).toMatchObject({ state: 'cancelling', generation: 3, cancel: { by: 'ops' } });
    // Cancel can be repeated while cancelling (its job is enqueued again, once).
    expect((await call(api, 'POST', path('cancel'))).status).toBe(200);
    expect((await call(api, 'POST', path('pause'))).json?.error).toBe('WAVE_STATE_CONFLICT');
    expect((await call(api, 'POST', `/private/notes/waves/${randomUUID()}/pause`)).json?.error).toBe(
      'NOT_FOUND',
    );
    const jobs = api.waveJobs as unknown as { jobs: { wave_id: string; generation: number }[] };
    expect(jobs.jobs.filter((j) => j.wave_id === json.wave_id).map((j) => j.generation)).toEqual([1, 2, 3]);
  });

  it('resumes once under N concurrent resumes (one new generation, one job) and pauses once under N pauses', async () => {
    const { json } = await create({ members: members(2), max_parallel_tenants: 1 });
    const path = (a: string) => `/private/notes/waves/${json.wave_id}/${a}`;
    const pauses = await Promise.all(Array.from({ length: 8 }, () => call(api, 'POST', path('pause'))));
    expect(pauses.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const resumes = await Promise.all(Array.from({ length: 8 }, () => call(api, 'POST', path('resume'))));
    expect(resumes.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect((await t.repos.waves.get(json.wave_id))?.generation).toBe(2);
    const jobs = api.waveJobs as unknown as { jobs: { wave_id: string; generation: number }[] };
    expect(jobs.jobs.filter((j) => j.wave_id === json.wave_id).map((j) => j.generation)).toEqual([1, 2]);
  });
});

describe('GET /private/notes/waves/:wave_id/stream', () => {
  it('sends the wave now and on each change, and `end` once it has ended', async () => {
    const list = members(1);
    await t.repos.featureFlags.setFlag(list[0]!.cid, MIGRATION_FLAG, true, new Date());
    const { json } = await create({ members: list, max_parallel_tenants: 1 });
    const sse = await openSse(api.url, `/private/notes/waves/${json.wave_id}/stream`);
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    await waitFor(
      () => sse.events.filter((e) => e.event === 'wave').length,
      (n) => n >= 1,
    );
    await call(api, 'POST', `/private/notes/waves/${json.wave_id}/pause`);
    await waitFor(
      () => sse.events.filter((e) => e.event === 'wave').map((e) => JSON.parse(e.data).state),
      (states) => states.includes('paused'),
      { what: 'a paused frame' },
    );
    // Nothing runs, so the wave is ended by hand: as a scheduler would once its members stopped.
    await t.collections.waves.updateOne(
      { _id: json.wave_id },
      { $set: { state: 'cancelled' }, $unset: { active_cids: '' } },
    );
    await sse.ended;
    expect(sse.events.at(-1)).toMatchObject({ event: 'end', data: JSON.stringify({ state: 'cancelled' }) });
  });
});
