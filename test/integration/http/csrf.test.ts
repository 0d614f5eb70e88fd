/**
 * CSRF protection of `/private` over a real port (issue #11): browser-like header sets on every
 * state-changing route (read from the app's routers, the dashboard's included), with the Basic
 * credentials a browser would have cached. Cross-site is refused before any handler runs;
 * same-origin pages, ALLOWED_ORIGINS and header-less clients (curl, the CLI) pass.
 */
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MIGRATION_FLAG } from '../../../src/domain.js';
import { createAgenda } from '../../../src/jobs/agenda-factory.js';
import { createSilentLogger } from '../../../src/logger.js';
import { type ApiUnderTest, call, createRecordingQueue, startApi } from '../../helpers/api-server.js';
import { trackResource } from '../../helpers/leak-check.js';
import { createRouteSpy, spyOnHandlers } from '../../helpers/route-spy.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const TRUSTED = 'https://ops.example.com';
const spy = createRouteSpy();
const jobs = createRecordingQueue();
let api: ApiUnderTest;
let stopAgenda: () => Promise<void>;

beforeAll(async () => {
  const agenda = await createAgenda({
    db: t.db,
    name: 'csrf',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger: createSilentLogger(),
  });
  let open = true;
  stopAgenda = async () => {
    open = false;
    await agenda.stop(false);
  };
  trackResource('agenda (csrf)', () => open, stopAgenda, 'file');
  api = await startApi(t, {
    agenda,
    jobs,
    scope: 'file',
    config: { allowedOrigins: [TRUSTED] },
    onApp: (app) => spyOnHandlers(app, spy),
  });
});

afterAll(async () => {
  await api.close();
  await stopAgenda();
});

/** Headers a browser sends with a request a page on `evil.example` makes to us. */
const CROSS_SITE_SETS: [string, Record<string, string>][] = [
  [
    'form post (Origin + Sec-Fetch-Site)',
    { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
  ],
  [
    'fetch() (Origin + Sec-Fetch-Site)',
    { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' },
  ],
  ['an older browser (Origin only)', { origin: 'http://evil.example' }],
  ['a browser that strips Origin (Sec-Fetch-Site only)', { 'sec-fetch-site': 'cross-site' }],
  ['a sandboxed frame (Origin: null)', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
  [
    'a sibling subdomain (same-site, foreign Origin)',
    { origin: 'http://other.127.0.0.1.nip.io', 'sec-fetch-site': 'same-site' },
  ],
  ['our host on another port', { origin: 'http://127.0.0.1:1' }],
  ['our host over https', { origin: 'https://127.0.0.1' }],
];

const stateChanging = () =>
  spy.routes.filter(
    (r) => r.template.startsWith('/private') && !['GET', 'HEAD', 'OPTIONS'].includes(r.method),
  );

describe('CSRF guard on /private (issue #11)', () => {
  it('covers every state-changing route, the dashboard actions included', () => {
    const templates = stateChanging().map((r) => r.template);
    expect(templates).toContain('/private/notes/migrate');
    expect(templates).toContain('/private/notes/migration/cancel');
    expect(templates).toContain('/private/dash/api/jobs/requeue');
    expect(templates).toContain('/private/dash/api/jobs/create');
  });

  it('refuses every cross-site header set on every state-changing route with 403 CSRF_REJECTED, before any handler', async () => {
    spy.calls.length = 0;
    const limit = pLimit(8);
    await Promise.all(
      stateChanging().flatMap((r) =>
        CROSS_SITE_SETS.map(([name, headers]) =>
          limit(async () => {
            const res = await call(api, r.method, r.path, {
              raw: 'jobName=migrate-crm-notes&jobData={}',
              headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
            });
            expect({ status: res.status, error: res.json?.error }, `${r.method} ${r.path}: ${name}`).toEqual({
              status: 403,
              error: 'CSRF_REJECTED',
            });
          }),
        ),
      ),
    );
    expect(spy.calls).toEqual([]);
    expect(jobs.jobs).toEqual([]);
    expect(await t.db.collection('agendaJobs').countDocuments({})).toBe(0);
  });

  it('names the refused Origin and the rule in the error', async () => {
    const res = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: '1', company_sso_id: 'co-1' },
      headers: { origin: 'http://evil.example' },
    });
    expect(res.json).toMatchObject({
      error: 'CSRF_REJECTED',
      details: { origin: 'http://evil.example' },
      message: expect.stringContaining('ALLOWED_ORIGINS'),
    });
  });

  it('lets the same origin, an ALLOWED_ORIGINS entry and header-less clients trigger a migration', async () => {
    const sets: [string, Record<string, string>][] = [
      ['our own page', { origin: api.url, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }],
      ['our own page, origin spelt with upper case', { origin: api.url.toUpperCase() }],
      ['an ALLOWED_ORIGINS entry', { origin: TRUSTED, 'sec-fetch-site': 'same-site' }],
      ['a typed URL (Sec-Fetch-Site: none)', { 'sec-fetch-site': 'none' }],
      ['curl / the CLI (no browser headers)', {}],
    ];
    for (const [i, [name, headers]] of sets.entries()) {
      const cid = String(71_000 + i);
      await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
      const res = await call(api, 'POST', '/private/notes/migrate', {
        body: { cid, company_sso_id: `co-${cid}` },
        headers,
      });
      expect(res.status, `${name}: ${res.text}`).toBe(200);
    }
  });

  it('lets cross-site reads through: GET changes nothing', async () => {
    const res = await call(api, 'GET', '/private/notes/migration/status?cid=1', {
      headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(200);
  });

  it('refuses the dashboard "create job" even from the dashboard itself, and creates nothing', async () => {
    const res = await call(api, 'POST', '/private/dash/api/jobs/create', {
      body: { jobName: 'migrate-crm-notes', jobData: { run_id: 'x' } },
      headers: { origin: api.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(res).toMatchObject({ status: 404, json: { error: 'NOT_FOUND' } });
    expect(res.json.message).toMatch(/disabled/);
    expect(await t.db.collection('agendaJobs').countDocuments({})).toBe(0);
  });

  it('takes dashboard actions only as JSON, so a same-origin form cannot post one either', async () => {
    const form = await call(api, 'POST', '/private/dash/api/jobs/requeue', {
      raw: 'jobIds=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form).toMatchObject({ status: 415, json: { error: 'UNSUPPORTED_MEDIA_TYPE' } });
    const json = await call(api, 'POST', '/private/dash/api/jobs/requeue', {
      body: { jobIds: [] },
      headers: { origin: api.url },
    });
    expect(json).toMatchObject({ status: 200, json: { requeuedCount: 0 } });
    const bad = await call(api, 'POST', '/private/dash/api/jobs/retry', {
      body: { jobIds: [{ $ne: null }] },
    });
    expect(bad).toMatchObject({ status: 400, json: { error: 'VALIDATION_ERROR' } });
  });

  it('checks credentials first: a cross-site request without them is 401, not 403', async () => {
    const res = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: '1', company_sso_id: 'co-1' },
      headers: { origin: 'http://evil.example' },
      auth: null,
    });
    expect(res).toMatchObject({ status: 401, json: { error: 'UNAUTHORIZED' } });
  });
});
