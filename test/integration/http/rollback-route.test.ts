/**
 * `POST /private/notes/migration/runs/:run_id/rollback` over a real port (#14): hostile paths and
 * bodies are refused before anything is read or written, the guards answer in their order, N
 * concurrent calls start exactly one rollback run, and `POST /migrate` refuses `kind: rollback`.
 * Also the failure log's default kind filter (DESIGN.md §11.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunsRepository } from '../../../src/db/runs-repository.js';
import type { RunKind, TerminalRunStatus } from '../../../src/domain.js';
import { createSilentLogger } from '../../../src/logger.js';
import { createTriggerDeps } from '../../../src/migration/run-deps.js';
import { startRollback } from '../../../src/migration/start-rollback.js';
import { makeConfigStamp, makeNewRun } from '../../fixtures/builders.js';
import { type ApiUnderTest, call, createRecordingQueue, startApi } from '../../helpers/api-server.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const jobs = createRecordingQueue();
let api: ApiUnderTest;

async function finishedRun(
  runId: string,
  cid: string,
  kind: RunKind,
  status: TerminalRunStatus | 'in_progress',
) {
  await t.repos.runs.create(
    makeNewRun({ runId, cid, kind, ...(kind === 'rollback' ? { targetRunId: 'x' } : {}) }),
    new Date(),
  );
  if (status !== 'in_progress') await t.repos.runs.finishUnclaimed(runId, { status }, new Date());
}

beforeAll(async () => {
  api = await startApi(t, { jobs, scope: 'file' });
  await finishedRun('done-1', '9101', 'migrate', 'completed_success');
  await finishedRun('running-1', '9102', 'migrate', 'in_progress');
  await finishedRun('reconcile-1', '9103', 'reconcile', 'completed_success');
  await finishedRun('rollback-1', '9104', 'rollback', 'completed_success');
  await finishedRun('repair-1', '9105', 'repair', 'completed_with_errors');
  await finishedRun('dry-1', '9106', 'dry_run', 'completed_success');
});

afterAll(() => api.close());

const path = (runId: string) => `/private/notes/migration/runs/${runId}/rollback`;

async function nothingWritten(runsBefore: number) {
  expect(await t.collections.runs.countDocuments({})).toBe(runsBefore);
  expect(await t.collections.locks.countDocuments({})).toBe(0);
}

const HOSTILE_IDS: [string, string][] = [
  ['a NoSQL operator', '%24ne'],
  ['a dot-dot segment', '..%2F..%2Fetc'],
  ['an id of 65 characters', 'a'.repeat(65)],
  ['non-ASCII letters', 'r%C3%BCn'],
  ['a NUL byte', 'run%00x'],
  ['a space', 'run%201'],
  ['an RTL override', 'run%E2%80%AE1'],
];

const HOSTILE_BODIES: [string, unknown][] = [
  ['dry_run as a string', { dry_run: 'yes' }],
  ['dry_run as a number', { dry_run: 1 }],
  ['dry_run as an operator', { dry_run: { $ne: false } }],
  ['an unknown key', { dry_run: true, run_id: 'done-1' }],
  ['an array body', [{ dry_run: true }]],
  ['a string body', 'dry_run'],
  ['null', null],
];

describe('POST /private/notes/migration/runs/:run_id/rollback', () => {
  it.each(HOSTILE_IDS)('refuses a run id with %s: 400, nothing read or written', async (_name, id) => {
    const before = await t.collections.runs.countDocuments({});
    const res = await call(api, 'POST', path(id), { body: { dry_run: true } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'VALIDATION_ERROR', details: { location: 'path' } });
    await nothingWritten(before);
  });

  it.each(HOSTILE_BODIES)('refuses a body with %s: 400, nothing written', async (_name, body) => {
    const before = await t.collections.runs.countDocuments({});
    const res = await call(api, 'POST', path('done-1'), { body });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('VALIDATION_ERROR');
    await nothingWritten(before);
  });

  it('refuses a body that is not JSON (415), not parseable (400), empty (400) or too large (413)', async () => {
    const before = await t.collections.runs.countDocuments({});
    expect((await call(api, 'POST', path('done-1'), { raw: 'dry_run=true' })).status).toBe(415);
    expect(
      (
        await call(api, 'POST', path('done-1'), {
          raw: '{"dry_run":',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    expect(
      (await call(api, 'POST', path('done-1'), { raw: '', headers: { 'content-type': 'application/json' } }))
        .status,
    ).toBe(400);
    const big = await call(api, 'POST', path('done-1'), {
      raw: JSON.stringify({ dry_run: true, pad: 'x'.repeat(10_000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.status).toBe(413);
    await nothingWritten(before);
  });

  it('needs Basic credentials (a bearer token is refused)', async () => {
    expect((await call(api, 'POST', path('done-1'), { body: {}, auth: null })).status).toBe(401);
    expect(
      (await call(api, 'POST', path('done-1'), { body: {}, auth: 'Bearer read-token-abc' })).status,
    ).toBe(401);
  });

  it('answers 404 for an unknown run and 409 ROLLBACK_NOT_ALLOWED for a run still in progress or of a kind that wrote nothing', async () => {
    const before = await t.collections.runs.countDocuments({});
    const unknown = await call(api, 'POST', path('no-such-run'), { body: {} });
    expect(unknown).toMatchObject({
      status: 404,
      json: { error: 'NOT_FOUND', details: { run_id: 'no-such-run' } },
    });
    for (const [id, reason] of [
      ['running-1', 'in_progress'],
      ['reconcile-1', 'reconcile run'],
      ['rollback-1', 'rollback run'],
      ['dry-1', 'dry_run run'],
    ] as const) {
      for (const dry_run of [true, false]) {
        const res = await call(api, 'POST', path(id), { body: { dry_run } });
        expect(res.status).toBe(409);
        expect(res.json.error).toBe('ROLLBACK_NOT_ALLOWED');
        expect(res.json.message).toContain(reason);
      }
    }
    await nothingWritten(before);
  });

  it('previews an incomplete repair run (it wrote notes too) without writing', async () => {
    const before = await t.collections.runs.countDocuments({});
    const res = await call(api, 'POST', path('repair-1'), { body: { dry_run: true } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      dry_run: true,
      cid: '9105',
      company_sso_id: 'co-9105',
      rollback_of: 'repair-1',
      rolled_back_by: null,
      would_delete: 0,
      would_keep: 0,
      objects: 0,
      notes_without_provenance: 0,
    });
    await nothingWritten(before);
  });

  it('starts exactly one rollback run for 16 concurrent calls; the others get 409 JOB_ALREADY_RUNNING', async () => {
    const answers = await Promise.all(
      Array.from({ length: 16 }, () => call(api, 'POST', path('done-1'), { body: {} })),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).map((a) => a.json.error)).toEqual(
      Array.from({ length: 15 }, () => 'JOB_ALREADY_RUNNING'),
    );
    expect(ok[0]?.json).toMatchObject({
      dry_run: false,
      rollback_of: 'done-1',
      cid: '9101',
      status: 'in_progress',
    });
    const rollbacks = await t.collections.runs.find({ cid: '9101', kind: 'rollback' }).toArray();
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      _id: ok[0]?.json.run_id,
      target_run_id: 'done-1',
      triggered_by: 'ops',
    });
    expect(jobs.jobs.filter((j) => j.cid === '9101')).toHaveLength(1);
  });

  it('answers 409 ALREADY_ROLLED_BACK once the run was rolled back; the preview says by which run', async () => {
    await finishedRun('done-2', '9106', 'migrate', 'completed_success');
    await t.repos.runs.markRolledBack('done-2', 'rb-earlier', new Date());
    const res = await call(api, 'POST', path('done-2'), { body: {} });
    expect(res).toMatchObject({
      status: 409,
      json: { error: 'ALREADY_ROLLED_BACK', details: { rolled_back_by: 'rb-earlier' } },
    });
    const preview = await call(api, 'POST', path('done-2'), { body: { dry_run: true } });
    expect(preview.json).toMatchObject({ dry_run: true, rolled_back_by: 'rb-earlier' });
    expect(await t.collections.runs.countDocuments({ cid: '9106', kind: 'rollback' })).toBe(0);
  });

  it('checks again under the CID lock: a rollback that finished between the first check and the lock makes it ALREADY_ROLLED_BACK, with no run and no lock left', async () => {
    await finishedRun('done-3', '9109', 'migrate', 'completed_success');
    let reads = 0;
    const runs: RunsRepository = {
      ...t.repos.runs,
      async get(id) {
        const run = await t.repos.runs.get(id);
        // Another rollback of the run ends right after this call's first look.
        if (id === 'done-3' && ++reads === 1)
          await t.repos.runs.markRolledBack('done-3', 'rb-racer', new Date());
        return run;
      },
    };
    const trigger = createTriggerDeps({
      repos: { ...t.repos, runs },
      extractor: { probeOrganization: () => Promise.reject(new Error('a rollback never asks CRM')) },
      jobs: createRecordingQueue(),
      pageSize: 3,
      configStamp: makeConfigStamp(),
      logger: createSilentLogger(),
      now: () => new Date(),
    });
    await expect(
      startRollback(
        { trigger, contactNotes: t.repos.contactNotes },
        { runId: 'done-3', dryRun: false, triggeredBy: 'test' },
      ),
    ).rejects.toMatchObject({ code: 'ALREADY_ROLLED_BACK', details: { rolled_back_by: 'rb-racer' } });
    expect(reads).toBe(2);
    expect(await t.repos.locks.get('9109')).toBeNull();
    expect(await t.collections.runs.countDocuments({ cid: '9109', kind: 'rollback' })).toBe(0);
  });
});

describe('POST /private/notes/migrate with a kind that acts on a run', () => {
  it('refuses kind rollback with 400 naming the route to use', async () => {
    const res = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: '9107', company_sso_id: 'co-9107', kind: 'rollback' },
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('POST /private/notes/migration/runs/{run_id}/rollback');
  });
});

describe('failure queries by kind (DESIGN.md §11.1)', () => {
  it('show migrate and repair records by default, and the others with kind= or run_id=', async () => {
    const cid = '9108';
    const base = { cid, companySsoId: 'co-9108', legacyCrmNoteId: '1', details: {} };
    await t.repos.failures.recordMany(
      [
        { ...base, runId: 'm', kind: 'migrate', reasonCode: 'CONTACT_NOT_MAPPED' },
        { ...base, runId: 'p', kind: 'repair', reasonCode: 'RECONCILE_EDITED_IN_CDP' },
        { ...base, runId: 'c', kind: 'reconcile', reasonCode: 'RECONCILE_STALE' },
        { ...base, runId: 'b', kind: 'rollback', reasonCode: 'ROLLBACK_KEPT_EDITED' },
      ],
      new Date(),
    );
    const runsOf = async (query: string) =>
      (
        (await call(api, 'GET', `/private/notes/migration/failures?cid=${cid}${query}`)).json.items as {
          run_id: string;
        }[]
      )
        .map((i) => i.run_id)
        .sort();
    expect(await runsOf('')).toEqual(['m', 'p']);
    expect(await runsOf('&kind=reconcile')).toEqual(['c']);
    expect(await runsOf('&run_id=b')).toEqual(['b']);
    expect(await runsOf('&severity=finding')).toEqual(['p']);
    const ndjson = await call(
      api,
      'GET',
      `/private/notes/migration/failures?cid=${cid}&kind=rollback&format=ndjson`,
    );
    expect(
      ndjson.text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { reason_code: string }).reason_code),
    ).toEqual(['ROLLBACK_KEPT_EDITED']);
    const csv = await call(api, 'GET', `/private/notes/migration/failures?cid=${cid}&format=csv`);
    expect(csv.text).toContain('RECONCILE_EDITED_IN_CDP');
    expect(csv.text).not.toContain('RECONCILE_STALE');
    const bad = await call(api, 'GET', `/private/notes/migration/failures?cid=${cid}&kind=everything`);
    expect(bad.status).toBe(400);
  });
});
