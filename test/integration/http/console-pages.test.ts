/**
 * The operator console's pages over a real port (#17): security headers, the tenant list paged
 * and filtered on the server, the run page's figures against the API's, hostile CRM/CDP values
 * rendered as text only (judged by a browser's parser), HTML error pages, the static files, and
 * actions shown only when their endpoint exists.
 */
import type Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONSOLE_CSP } from '../../../src/http/console/console-routes.js';
import { makeConfigStamp, makeRun } from '../../fixtures/builders.js';
import { makeFailure } from '../../fixtures/failure-docs.js';
import { HOSTILE_ALL, HOSTILE_STRINGS } from '../../fixtures/hostile-strings.js';
import { type ApiUnderTest, call, startApi } from '../../helpers/api-server.js';
import { findActiveMarkup, textOf } from '../../helpers/page-inertness.js';
import { routersOf } from '../../helpers/route-spy.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
let api: ApiUnderTest;

const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 10, minute));

beforeAll(async () => {
  api = await startApi(t, { scope: 'file' });
  // 130 tenants with one run each, plus an older run of tenant 2000 (the list shows the latest).
  const statuses = ['completed_success', 'halted', 'in_progress', 'completed_with_errors', 'failed'] as const;
  await t.collections.runs.insertMany(
    Array.from({ length: 130 }, (_, i) =>
      makeRun({
        _id: `list-${i}`,
        cid: String(2000 + i),
        company_sso_id: i % 10 === 0 ? `acme-${i}` : `co-${i}`,
        status: statuses[i % statuses.length],
        created_at: at(i % 60),
        updated_at: at(i % 60),
      }),
    ),
  );
  await t.collections.runs.insertOne(
    makeRun({ _id: 'list-old', cid: '2000', status: 'failed', created_at: new Date(Date.UTC(2025, 0, 1)) }),
  );
});

afterAll(async () => {
  await api.close();
});

describe('console pages: headers', () => {
  it('answers every page and asset with a strict CSP, no framing, no referrer, no sniffing', async () => {
    for (const path of [
      '/private/console',
      '/private/console/runs/list-1',
      '/private/console/assets/console.js',
      '/private/console/runs/nope',
    ]) {
      const res = await call(api, 'GET', path);
      expect(res.headers['content-security-policy'], path).toBe(CONSOLE_CSP);
      expect(res.headers['x-frame-options'], path).toBe('DENY');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it('needs the Basic credentials like the rest of /private', async () => {
    expect((await call(api, 'GET', '/private/console', { auth: null })).status).toBe(401);
    expect((await call(api, 'GET', '/private/console/assets/console.js', { auth: null })).status).toBe(401);
  });
});

describe('console pages: the tenant list', () => {
  it('pages every CID by its latest run on the server, in CID order', async () => {
    const first = await call(api, 'GET', '/private/notes/migration/tenants?limit=50');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ total: 130, page: 1, limit: 50, pages: 3 });
    expect(first.json.items).toHaveLength(50);
    expect(first.json.items[0]).toMatchObject({ cid: '2000', run_id: 'list-0', status: 'completed_success' });
    const third = await call(api, 'GET', '/private/notes/migration/tenants?limit=50&page=3');
    expect(third.json.items.map((i: { cid: string }) => i.cid)).toEqual(
      Array.from({ length: 30 }, (_, k) => String(2100 + k)),
    );
    const html = (await call(api, 'GET', '/private/console?limit=50&page=3')).text;
    expect(html).toContain('Page 3 of 3');
    expect((html.match(/<tr data-cid="2\d{3}"/g) ?? []).length).toBe(30);
  });

  it('filters by status and kind, searches by CID prefix or company, and counts by status', async () => {
    const halted = await call(api, 'GET', '/private/notes/migration/tenants?status=halted&limit=200');
    expect(halted.json.total).toBe(26);
    expect(halted.json.items.every((i: { status: string }) => i.status === 'halted')).toBe(true);
    expect(halted.json.counts_by_status).toEqual({
      completed_success: 26,
      halted: 26,
      in_progress: 26,
      completed_with_errors: 26,
      failed: 26,
    });
    const byCid = await call(api, 'GET', '/private/notes/migration/tenants?q=212');
    expect(byCid.json.items.map((i: { cid: string }) => i.cid)).toEqual([
      '2120',
      '2121',
      '2122',
      '2123',
      '2124',
      '2125',
      '2126',
      '2127',
      '2128',
      '2129',
    ]);
    const byCompany = await call(api, 'GET', '/private/notes/migration/tenants?q=ACME');
    expect(byCompany.json.total).toBe(13);
    // A regex character is a literal: `.` matches only a dot.
    expect((await call(api, 'GET', '/private/notes/migration/tenants?q=co.1')).json.total).toBe(0);
    expect((await call(api, 'GET', '/private/notes/migration/tenants?kind=migrate')).json.total).toBe(130);
    const recent = await call(api, 'GET', '/private/notes/migration/tenants?sort=recent&limit=1');
    expect(recent.json.items[0].updated_at).toBe(at(59).toISOString());
  });

  it('refuses bad filters with 400, and the console renders them as an HTML error page', async () => {
    for (const query of [
      'status=bogus',
      'q=%24where',
      'q=a%20b',
      'page=0',
      'limit=500',
      'sort=x',
      'extra=1',
      'q=a&q=b',
    ]) {
      const res = await call(api, 'GET', `/private/notes/migration/tenants?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error, query).toBe('VALIDATION_ERROR');
      const page = await call(api, 'GET', `/private/console?${query}`);
      expect(page.status, query).toBe(400);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(textOf(page.text)).toContain('VALIDATION_ERROR');
      expect(findActiveMarkup(page.text)).toEqual([]);
    }
  });

  it('answers a list of 3,000 tenants one page at a time (timed, printed)', async () => {
    const cid0 = 300_000;
    await t.collections.runs.insertMany(
      Array.from({ length: 3_000 }, (_, i) =>
        makeRun({
          _id: `big-${i}`,
          cid: String(cid0 + i),
          company_sso_id: `big-${i}`,
          status: 'completed_success',
        }),
      ),
    );
    const started = performance.now();
    const res = await call(api, 'GET', '/private/notes/migration/tenants?q=big&limit=100&page=11');
    const ms = Math.round(performance.now() - started);
    expect(res.json.total).toBe(3_000);
    expect(res.json.pages).toBe(30);
    expect(res.json.items).toHaveLength(100);
    expect(res.json.items[0].cid).toBe(String(cid0 + 1000));
    process.stdout.write(`tenant list over 3,131 CIDs (page 11 of 30): ${ms} ms on this test server\n`);
    await t.collections.runs.deleteMany({ _id: /^big-/ });
  });
});

describe('console pages: the run page', () => {
  it('shows the counters, the failure counts by reason the API reports, their first records and export links', async () => {
    await t.collections.runs.insertOne(
      makeRun({
        _id: 'detail-1',
        cid: '4100',
        status: 'completed_with_errors',
        notes_total: 10,
        notes_processed: 10,
        notes_migrated: 6,
        notes_failed: 3,
        notes_skipped: 1,
        started_at: at(0),
        updated_at: at(5),
        finished_at: at(5),
        config: makeConfigStamp({ attachment_hosts: ['files.example.com'] }),
        triggered_by: 'ops (cli)',
        page_timeline: [
          { page: 1, at: at(1), notes_processed: 5 },
          { page: 2, at: at(5), notes_processed: 10 },
        ],
        closure: {
          balanced: true,
          notes_total: 10,
          accounted: 10,
          unaccounted_ids: [],
          unaccounted_count: 0,
        },
      }),
    );
    await t.collections.failures.insertMany([
      ...[1, 2, 3].map((n) => makeFailure({ cid: '4100', run_id: 'detail-1', legacy_crm_note_id: `n${n}` })),
      makeFailure({
        cid: '4100',
        run_id: 'detail-1',
        legacy_crm_note_id: 'n9',
        reason_code: 'OWNER_NOT_MAPPED',
        severity: 'warning',
      }),
      makeFailure({ cid: '4100', run_id: 'other-run', legacy_crm_note_id: 'x' }),
    ]);
    const detail = await call(api, 'GET', '/private/notes/migration/runs/detail-1');
    expect(detail.json.failures_by_reason).toEqual([
      { reason_code: 'CONTACT_NOT_MAPPED', severity: 'failure', count: 3 },
      { reason_code: 'OWNER_NOT_MAPPED', severity: 'warning', count: 1 },
    ]);
    expect(detail.json.page_timeline).toHaveLength(2);
    expect(detail.json.run).toMatchObject({ run_id: 'detail-1', triggered_by: 'ops (cli)' });

    const page = await call(api, 'GET', '/private/console/runs/detail-1');
    expect(page.status).toBe(200);
    expect(findActiveMarkup(page.text)).toEqual([]);
    const text = textOf(page.text);
    expect(page.text).toMatch(/<tr data-reason="CONTACT_NOT_MAPPED">[\s\S]*?data-field="reason-count">3</);
    expect(page.text).toMatch(/<tr data-reason="OWNER_NOT_MAPPED">[\s\S]*?data-field="reason-count">1</);
    for (const id of ['n1', 'n2', 'n3', 'n9']) expect(text).toContain(id);
    expect(text).not.toContain('other-run');
    expect(page.text).toContain(
      'href="/private/notes/migration/failures?cid=4100&amp;run_id=detail-1&amp;format=csv"',
    );
    expect(page.text).toContain('reason_code=OWNER_NOT_MAPPED&amp;format=ndjson');
    expect(text).toContain('ops (cli)');
    expect(text).toContain('files.example.com');
    expect(text).toContain('Notes per second over 2 pages');
    expect(text).toContain('yes: every note is in one bucket');
  });

  it('answers an unknown run with a 404 page and a malformed id with a 400 page', async () => {
    const missing = await call(api, 'GET', '/private/console/runs/no-such-run');
    expect(missing.status).toBe(404);
    expect(textOf(missing.text)).toContain('No run no-such-run');
    const bad = await call(api, 'GET', `/private/console/runs/${encodeURIComponent('<script>x</script>')}`);
    expect(bad.status).toBe(400);
    expect(findActiveMarkup(bad.text)).toEqual([]);
    expect((await call(api, 'GET', '/private/notes/migration/runs/no-such-run')).status).toBe(404);
  });
});

describe('console pages: hostile values from CRM and CDP', () => {
  it('renders every planted string as text: no script, handler, javascript: URL or embedded element', async () => {
    const cid = '4200';
    await t.collections.runs.insertOne(
      makeRun({
        _id: 'hostile-1',
        cid,
        company_sso_id: HOSTILE_STRINGS[1],
        status: 'halted',
        halt_reason: HOSTILE_ALL,
        error: { code: 'CRM_EXTRACT_FAILED', message: HOSTILE_STRINGS[0] },
        triggered_by: HOSTILE_STRINGS[2],
        owner: HOSTILE_STRINGS[4],
        config: makeConfigStamp({
          attachment_hosts: [...HOSTILE_STRINGS],
          service_version: HOSTILE_STRINGS[6],
        }),
        closure: {
          balanced: false,
          notes_total: 3,
          accounted: 1,
          unaccounted_ids: [...HOSTILE_STRINGS],
          unaccounted_count: 8,
        },
      }),
    );
    await t.collections.failures.insertMany(
      HOSTILE_STRINGS.map((s, i) =>
        makeFailure({
          cid,
          run_id: 'hostile-1',
          company_sso_id: s,
          legacy_crm_note_id: s,
          reason_code: i % 2 === 0 ? 'OWNER_NOT_MAPPED' : 'ATTACHMENT_SSRF_BLOCKED',
          severity: 'warning',
          details: { creator_name: s, url: s, [s]: s },
        }),
      ),
    );
    for (const path of ['/private/console/runs/hostile-1', `/private/console?q=${cid}`]) {
      const page = await call(api, 'GET', path);
      expect(page.status, path).toBe(200);
      expect(findActiveMarkup(page.text), path).toEqual([]);
      const text = textOf(page.text);
      // Rendered, as text: the company id is on both pages, the run page has the rest.
      expect(text, path).toContain(HOSTILE_STRINGS[1]);
    }
    const runText = textOf((await call(api, 'GET', '/private/console/runs/hostile-1')).text);
    expect(runText).toContain(HOSTILE_STRINGS[0]);
    expect(runText).toContain(HOSTILE_STRINGS[2]);
    expect(runText).toContain(HOSTILE_STRINGS[3].slice(0, 40));
  });
});

describe('console pages: static files', () => {
  it('serves the console files by exact name with their types, and nothing else', async () => {
    const js = await call(api, 'GET', '/private/console/assets/console.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await call(api, 'GET', '/private/console/assets/console.css')).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
    for (const name of ['nope.js', 'console-routes.ts', '..%2Fconsole-routes.ts', 'CONSOLE.JS', 'x.html']) {
      const res = await call(api, 'GET', `/private/console/assets/${name}`);
      expect([400, 404], name).toContain(res.status);
    }
  });
});

describe('console pages: only actions whose endpoints exist', () => {
  /** The private router without its rollback and wave routes, whichever of them this service has. */
  const withoutUndoAndWaves = (app: Koa) => {
    const privateRouter = routersOf(app)[1]!;
    privateRouter.stack = privateRouter.stack.filter(
      (layer) => !/\/rollback$|^\/private\/notes\/waves/.test(String(layer.path)),
    );
    return privateRouter;
  };

  it('offers no rollback and no waves on a service without those APIs, and offers them once routes exist', async () => {
    const without = await startApi(t, { onApp: withoutUndoAndWaves });
    const withApis = await startApi(t, {
      onApp: (app) => {
        const privateRouter = withoutUndoAndWaves(app);
        const stub = (ctx: { body: unknown }) => {
          ctx.body = {};
        };
        privateRouter.post('/private/notes/migration/runs/:run_id/rollback', stub);
        privateRouter.get('/private/notes/waves/:wave_id', stub);
        privateRouter.post('/private/notes/waves/:wave_id/pause', stub);
      },
    });
    try {
      const plain = (await call(without, 'GET', '/private/console/runs/detail-1')).text;
      expect(plain).toContain('<h1>Run');
      expect(plain).not.toContain('data-action="rollback"');
      expect(plain).not.toContain('href="/private/console/waves"');
      expect((await call(without, 'GET', '/private/console/waves/w-1')).status).toBe(404);

      const page = (await call(withApis, 'GET', '/private/console/runs/detail-1')).text;
      expect(page).toMatch(
        /data-action="rollback"\s+data-url="\/private\/notes\/migration\/runs\/detail-1\/rollback"/,
      );
      expect(page).toContain('href="/private/console/waves"');
      const wave = await call(withApis, 'GET', '/private/console/waves/w-1');
      expect(wave.status).toBe(200);
      expect(wave.text).toContain('data-wave-action="pause"');
      expect(wave.text).not.toContain('data-wave-action="cancel"');
    } finally {
      await withApis.close();
      await without.close();
    }
  });
});
