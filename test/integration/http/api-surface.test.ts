import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ERROR_CATALOG } from '../../../src/error-catalog.js';
import { createApiRouters } from '../../../src/http/create-http-app.js';
import { makeCreatorUser, makeCrmNote, makeRun } from '../../fixtures/builders.js';
import { buildApiDeps, call, metricValue, startApi } from '../../helpers/api-server.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);

interface OpenApiResponse {
  content?: Record<string, { schema?: { allOf?: { properties?: { error?: { enum?: string[] } } }[] } }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, OpenApiResponse> }>>;
}

describe('OpenAPI document', () => {
  it('serves exactly the committed docs/openapi.json, behind Basic auth', async () => {
    const api = await startApi(t);
    expect((await call(api, 'GET', '/private/openapi.json', { auth: null })).status).toBe(401);
    const served = await call(api, 'GET', '/private/openapi.json');
    expect(served.status).toBe(200);
    const committed = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
    expect(served.json, 'docs/openapi.json is stale: run `npm run openapi:write`').toEqual(committed);
    await api.close();
  });

  it('describes every registered route and method, with the catalog status of each error it documents', () => {
    const doc = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
    // The dashboard's own JSON API is agendash's (docs/api.md "Dashboard"); the document names its page.
    const { dashboard: _dashboard, ...documented } = createApiRouters(buildApiDeps(t).deps);
    const registered = Object.values(documented)
      .flatMap((router) => router.stack)
      .flatMap((layer) =>
        layer.methods
          .filter((m) => m !== 'HEAD')
          .map((m) => `${m.toLowerCase()} ${String(layer.path).replace(/:([a-z_]+)/g, '{$1}')}`),
      );
    expect(registered.length).toBeGreaterThanOrEqual(11);
    for (const route of registered) {
      const [method, path] = route.split(' ') as [string, string];
      expect(doc.paths[path]?.[method], `${route} is missing from docs/openapi.json`).toBeDefined();
    }
    expect(doc.paths['/private/dash/']?.get).toBeDefined();

    let documentedErrors = 0;
    for (const operations of Object.values((doc as OpenApiDoc).paths)) {
      for (const op of Object.values(operations)) {
        for (const [status, response] of Object.entries(op.responses)) {
          const codes = response.content?.['application/json']?.schema?.allOf?.[1]?.properties?.error?.enum;
          for (const code of codes ?? []) {
            documentedErrors++;
            expect(ERROR_CATALOG[code as keyof typeof ERROR_CATALOG].status, code).toBe(Number(status));
          }
        }
      }
    }
    expect(documentedErrors).toBeGreaterThan(20);
  });
});

describe('metrics', () => {
  it('exposes run, note, page, CRM-retry, HTTP and SSE metrics without auth', async () => {
    const api = await startApi(t);
    const cid = '61001';
    const notes = Array.from({ length: 6 }, (_, i) =>
      makeCrmNote({ id: String(i + 1), crmPersonId: String(i) }),
    );
    // Persons 0-3 have contacts; 4 and 5 do not (CONTACT_NOT_MAPPED), so the run halts.
    await t.collections.contacts.insertMany(
      [0, 1, 2, 3].map((i) => ({ _id: `m-${i}`, company_sso_id: `co-${cid}`, crm_data: { id: String(i) } })),
    );
    await t.collections.users.insertOne(makeCreatorUser(`co-${cid}`));
    const h = createRunHarness({
      repos: t.repos,
      extractor: createMemoryCrm(notes),
      normalizeHtml: (html) => ({ ok: true, html, hasVisibleText: true }),
      pageSize: 3,
    });
    await h.enableFlag(cid);
    const { runId } = await h.trigger({ cid });
    const deps = h.deps('metrics-worker');
    const { executeRun } = await import('../../../src/migration/execute-run.js');
    await executeRun({ ...deps, observer: api.metrics.migrationObserver }, runId);
    api.metrics.onCrmRetry({ attempt: 1, status: 503, reason: 'http_503', delayMs: 1000 });
    api.metrics.onCrmRetry({ attempt: 1, status: null, reason: 'Weird Reason With Spaces', delayMs: 1000 });
    await call(api, 'GET', `/private/notes/migration/status?cid=${cid}`);

    const res = await call(api, 'GET', '/metrics', { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(await metricValue(api, 'cnm_runs_finished_total', { status: 'halted' })).toBe(1);
    expect(await metricValue(api, 'cnm_notes_migrated_total')).toBe(4);
    expect(await metricValue(api, 'cnm_notes_failed_total')).toBe(2);
    expect(
      await metricValue(api, 'cnm_note_problems_total', {
        reason_code: 'CONTACT_NOT_MAPPED',
        severity: 'failure',
      }),
    ).toBe(2);
    expect(await metricValue(api, 'cnm_page_duration_seconds_count')).toBe(2);
    expect(await metricValue(api, 'cnm_crm_retries_total', { reason: 'http_503' })).toBe(1);
    expect(await metricValue(api, 'cnm_crm_retries_total', { reason: 'other' })).toBe(1);
    expect(
      await metricValue(api, 'cnm_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/private/notes/migration/status',
        status: '200',
      }),
    ).toBe(1);
    await call(api, 'GET', '/no/such/path/123', { auth: null });
    expect(
      await metricValue(api, 'cnm_http_request_duration_seconds_count', {
        route: 'unmatched',
        status: '404',
      }),
    ).toBe(1);
    expect(res.text).toContain('cnm_sse_streams_open 0');
    expect(res.text).toContain('cnm_status_change_streams_open 0');
    await api.close();
  });
});

describe('HTTP server', () => {
  it('closes in well under the keep-alive timeout while a client holds an idle keep-alive socket', async () => {
    const api = await startApi(t);
    const { Agent, request } = await import('undici');
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    const res = await request(`${api.url}/healthz`, { dispatcher: agent });
    await res.body.text();
    const started = Date.now();
    await api.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await agent.close();
  });
});

describe('run history and cancel', () => {
  it('lists runs newest first with a limit', async () => {
    const api = await startApi(t);
    const cid = '62001';
    for (let i = 0; i < 3; i++) {
      await t.collections.runs.insertOne(
        makeRun({ _id: `hist-${i}`, cid, status: 'halted', created_at: new Date(Date.UTC(2026, 0, i + 1)) }),
      );
    }
    const all = await call(api, 'GET', `/private/notes/migration/runs?cid=${cid}`);
    expect(all.json.runs.map((r: { run_id: string }) => r.run_id)).toEqual(['hist-2', 'hist-1', 'hist-0']);
    expect(all.json.runs[0]).toMatchObject({
      cid,
      mode: 'restart',
      status: 'halted',
      checkpoint: { page: 0 },
    });
    const one = await call(api, 'GET', `/private/notes/migration/runs?cid=${cid}&limit=1`);
    expect(one.json.runs).toHaveLength(1);
    expect((await call(api, 'GET', '/private/notes/migration/runs?cid=99999')).json).toEqual({
      cid: '99999',
      runs: [],
    });
    await api.close();
  });

  it('cancels a queued run at once and releases its lock; a claimed run is asked to stop after its page', async () => {
    const api = await startApi(t);
    const cid = '62002';
    await t.repos.featureFlags.setFlag(cid, 'crm_notes_migration_enabled', true, new Date());
    const started = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: Number(cid), company_sso_id: 'co-1' },
    });
    expect(started.status).toBe(200);
    const cancelled = await call(api, 'POST', '/private/notes/migration/cancel', { body: { cid } });
    expect(cancelled).toMatchObject({ status: 200, json: { status: 'cancelled', cancel_requested: true } });
    expect(await t.repos.locks.get(cid)).toBeNull();

    const claimedCid = '62003';
    await t.collections.runs.insertOne(
      makeRun({ _id: 'claimed', cid: claimedCid, lease_epoch: 1, owner: 'w' }),
    );
    const asked = await call(api, 'POST', '/private/notes/migration/cancel', { body: { cid: claimedCid } });
    expect(asked).toMatchObject({ status: 200, json: { status: 'in_progress', cancel_requested: true } });
    await api.close();
  });
});
