import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';

import type { FailureQuery } from '../../../src/db/failures-repository.js';
import type { ReasonCode } from '../../../src/domain.js';
import { seedFailures } from '../../fixtures/failure-docs.js';
import { BASIC, call, startApi } from '../../helpers/api-server.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);

const REASONS: ReasonCode[] = ['CONTACT_NOT_MAPPED', 'OWNER_NOT_MAPPED', 'NOTE_TOO_LONG'];

/** Mixed state: CID 100 has runs r1 (250) and r2 (30); CID 200 (another tenant) has 40. */
beforeAll(async () => {
  await seedFailures(t.collections.failures, 250, (i) => ({
    cid: '100',
    run_id: 'r1',
    reason_code: REASONS[i % 3],
    severity: i % 3 === 1 ? 'warning' : 'failure',
  }));
  await seedFailures(t.collections.failures, 30, (i) => ({
    cid: '100',
    run_id: 'r2',
    legacy_crm_note_id: `r2-${i}`,
    reason_code: 'WRITE_FAILED',
    severity: 'failure',
    details: { message: 'E11000, "quoted", and\nnewline', formula: '=1+1' },
  }));
  await seedFailures(t.collections.failures, 40, () => ({
    cid: '200',
    company_sso_id: 'co-200',
    run_id: 'r9',
  }));
});

const base = '/private/notes/migration/failures';

describe('failure queries', () => {
  it('pages through every record of a CID with next_cursor, in order, and never shows another tenant', async () => {
    const api = await startApi(t);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(api, 'GET', `${base}?cid=100&limit=100${cursor ? `&after=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      for (const item of res.json.items) {
        expect(item.cid).toBe('100');
        seen.push(item.id);
      }
      cursor = res.json.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(280);
    expect(new Set(seen).size).toBe(280);
    expect(seen).toEqual([...seen].sort());
    await api.close();
  });

  it('filters by run_id, reason_code and severity, and shows records in their stored shape', async () => {
    const api = await startApi(t);
    const byRun = await call(api, 'GET', `${base}?cid=100&run_id=r2&limit=1000`);
    expect(byRun.json.items).toHaveLength(30);
    expect(byRun.json.next_cursor).toBeNull();
    expect(byRun.json.items[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      cid: '100',
      company_sso_id: 'co-100',
      run_id: 'r2',
      kind: 'migrate',
      legacy_crm_note_id: 'r2-0',
      reason_code: 'WRITE_FAILED',
      severity: 'failure',
      details: { message: 'E11000, "quoted", and\nnewline', formula: '=1+1' },
      created_at: '2026-01-02T03:04:05.000Z',
    });
    const byReason = await call(api, 'GET', `${base}?cid=100&reason_code=OWNER_NOT_MAPPED&limit=1000`);
    expect(byReason.json.items).toHaveLength(83);
    const warnings = await call(api, 'GET', `${base}?cid=100&severity=warning&limit=1000`);
    expect(warnings.json.items.every((i: { severity: string }) => i.severity === 'warning')).toBe(true);
    expect(warnings.json.items).toHaveLength(83);
    const none = await call(api, 'GET', `${base}?cid=300`);
    expect(none.json).toEqual({ items: [], next_cursor: null });
    await api.close();
  });

  it('exports NDJSON of every match, one record per line', async () => {
    const api = await startApi(t);
    const res = await call(api, 'GET', `${base}?cid=100&format=ndjson`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="failures-100.ndjson"');
    const lines = res.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(280);
    expect(lines.filter((l) => l.run_id === 'r2')).toHaveLength(30);
    const filtered = await call(api, 'GET', `${base}?cid=100&format=ndjson&reason_code=NOTE_TOO_LONG`);
    expect(filtered.text.trimEnd().split('\n')).toHaveLength(83);
    await api.close();
  });

  it('exports CSV with a header row, quoting, and formula cells neutralised', async () => {
    const api = await startApi(t);
    const res = await call(api, 'GET', `${base}?cid=100&run_id=r2&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const [header, first] = res.text.split('\n');
    expect(header).toBe(
      'id,cid,company_sso_id,run_id,kind,legacy_crm_note_id,reason_code,severity,created_at,details',
    );
    expect(first).toMatch(
      /^[0-9a-f]{24},100,co-100,r2,migrate,r2-0,WRITE_FAILED,failure,2026-01-02T03:04:05.000Z,"\{/,
    );
    // The embedded newline stays inside one quoted cell.
    expect(res.text).toContain(
      '"{""message"":""E11000, \\""quoted\\"", and\\nnewline"",""formula"":""=1+1""}"',
    );
    await t.collections.failures.insertOne({
      ...(await t.collections.failures.findOne({ run_id: 'r2' }))!,
      _id: undefined as never,
      run_id: 'r3',
      legacy_crm_note_id: '=HYPERLINK("http://evil")',
    });
    const evil = await call(api, 'GET', `${base}?cid=100&run_id=r3&format=csv`);
    expect(evil.text.split('\n')[1]).toContain(`"'=HYPERLINK(""http://evil"")"`);
    await api.close();
  });

  it('refuses paging parameters on an export', async () => {
    const api = await startApi(t);
    const res = await call(api, 'GET', `${base}?cid=100&format=csv&limit=5`);
    expect(res).toMatchObject({ status: 400, json: { error: 'VALIDATION_ERROR' } });
    await api.close();
  });
});

describe('failure export under backpressure', () => {
  const BIG = 20_000;
  /** ~2 KB per record, so 20,000 records (~40 MB of CSV) cannot hide in socket buffers. */
  const padding = 'p'.repeat(2_000);

  beforeAll(async () => {
    await seedFailures(t.collections.failures, BIG, (i) => ({
      cid: '500',
      run_id: 'big',
      details: { i, padding },
    }));
  }, 120_000);

  it('stops reading the cursor while the client does not read, finishes when it does, and closes the cursor when it leaves', async () => {
    let yielded = 0;
    let cursorsClosed = 0;
    const api = await startApi(t, {
      override: (deps) => ({
        ...deps,
        failures: {
          ...deps.failures,
          stream: (q: FailureQuery) =>
            (async function* () {
              try {
                for await (const doc of t.repos.failures.stream(q)) {
                  yielded++;
                  yield doc;
                }
              } finally {
                cursorsClosed++;
              }
            })(),
        },
      }),
    });
    const url = `${api.url}${base}?cid=500&format=csv`;

    // A client that reads nothing after the headers.
    const slow = await request(url, { headers: { authorization: BASIC } });
    expect(slow.statusCode).toBe(200);
    const stalled = await waitFor(
      async () => {
        const before = yielded;
        await new Promise((r) => setTimeout(r, 150));
        return { before, after: yielded };
      },
      (v) => v.before > 0 && v.before === v.after,
      { timeoutMs: 30_000, intervalMs: 0, what: 'the export to stall on a client that does not read' },
    );
    expect(stalled.after).toBeLessThan(BIG / 2);
    process.stdout.write(`export stalled after ${stalled.after} of ${BIG} records\n`);

    // Reading resumes the export to the last row.
    let lines = 0;
    for await (const chunk of slow.body) lines += (chunk as Buffer).toString('utf8').split('\n').length - 1;
    expect(lines).toBe(BIG + 1);
    expect(yielded).toBe(BIG);
    expect(cursorsClosed).toBe(1);

    // A client that hangs up mid-export: the server stops and closes its cursor.
    const abort = new AbortController();
    const leaver = await request(url, { headers: { authorization: BASIC }, signal: abort.signal });
    leaver.body.on('error', () => undefined);
    await new Promise<void>((resolve) => leaver.body.once('data', () => resolve()));
    abort.abort();
    await waitFor(
      () => cursorsClosed,
      (n) => n === 2,
      { what: 'the cursor of the abandoned export to close' },
    );
    expect(yielded).toBeLessThan(2 * BIG);
    await api.close();
  }, 120_000);
});
