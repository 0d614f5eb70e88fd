import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MIGRATION_FLAG } from '../../../src/domain.js';
import { makeRun } from '../../fixtures/builders.js';
import { type ApiUnderTest, call, createRecordingQueue, startApi } from '../../helpers/api-server.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const jobs = createRecordingQueue();
let api: ApiUnderTest;
let probes = 0;

beforeAll(async () => {
  api = await startApi(t, {
    jobs,
    scope: 'file',
    extractor: {
      probeOrganization: () => {
        probes++;
        return Promise.resolve({ total: 1 });
      },
    },
  });
  // Flags are on for every CID an injection could reach, so a 400 is the validator's doing.
  for (const cid of ['1', '123', '9'])
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
  // A run an injected query could find, to prove nothing reads it.
  await t.collections.runs.insertOne(makeRun({ _id: 'existing', cid: '9', status: 'halted' }));
});

afterAll(() => api.close());

async function untouched() {
  expect(await t.collections.runs.countDocuments({})).toBe(1);
  expect(await t.collections.locks.countDocuments({})).toBe(0);
  expect(await t.db.collection('agendaJobs').countDocuments({})).toBe(0);
  expect(jobs.jobs).toEqual([]);
  expect(probes).toBe(0);
}

const BODIES: [string, unknown][] = [
  ['NoSQL operator in cid', { cid: { $ne: null }, company_sso_id: 'co-1' }],
  ['NoSQL operator in company_sso_id', { cid: '1', company_sso_id: { $gt: '' } }],
  ['$where injection string', { cid: "1'; return true; var x='", company_sso_id: 'co-1' }],
  ['SQL injection shaped cid', { cid: '1 OR 1=1; DROP TABLE notes --', company_sso_id: 'co-1' }],
  ['array cid', { cid: ['1'], company_sso_id: 'co-1' }],
  ['boolean cid', { cid: true, company_sso_id: 'co-1' }],
  ['null cid', { cid: null, company_sso_id: 'co-1' }],
  ['negative cid', { cid: -1, company_sso_id: 'co-1' }],
  ['zero cid', { cid: 0, company_sso_id: 'co-1' }],
  ['fractional cid', { cid: 1.5, company_sso_id: 'co-1' }],
  ['unsafe integer cid', { cid: 1e30, company_sso_id: 'co-1' }],
  ['leading zero', { cid: '0123', company_sso_id: 'co-1' }],
  ['whitespace around cid', { cid: ' 123 ', company_sso_id: 'co-1' }],
  ['Arabic-Indic digits', { cid: '١٢٣', company_sso_id: 'co-1' }],
  ['fullwidth digits', { cid: '１２３', company_sso_id: 'co-1' }],
  ['emoji', { cid: '12🔥3', company_sso_id: 'co-1' }],
  ['NUL byte', { cid: '12\u00003', company_sso_id: 'co-1' }],
  ['RTL override in company id', { cid: '1', company_sso_id: 'co\u202e1' }],
  ['path traversal company id', { cid: '1', company_sso_id: '../../etc/passwd' }],
  ['overlong cid', { cid: '1'.repeat(40), company_sso_id: 'co-1' }],
  ['unknown extra key', { cid: '1', company_sso_id: 'co-1', $where: 'sleep(1000)' }],
  ['unknown mode', { cid: '1', company_sso_id: 'co-1', mode: { $ne: 'x' } }],
  ['JSON array body', [{ cid: '1', company_sso_id: 'co-1' }]],
  ['JSON string body', 'cid=1'],
  ['JSON number body', 123],
];

describe('hostile input to POST /private/notes/migrate', () => {
  it.each(BODIES)('rejects %s with 400 VALIDATION_ERROR and touches nothing', async (_name, body) => {
    const res = await call(api, 'POST', '/private/notes/migrate', { body });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'VALIDATION_ERROR', details: { location: 'body' } });
    expect(res.json.details.issues.length).toBeGreaterThan(0);
    await untouched();
  });

  it('rejects a prototype-pollution body and leaves Object.prototype alone', async () => {
    const res = await call(api, 'POST', '/private/notes/migrate', {
      raw: '{"cid":"1","company_sso_id":"co-1","__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await untouched();
  });

  it.each([
    ['malformed JSON', '{"cid": "1", company_sso_id: }'],
    ['truncated JSON', '{"cid": "1"'],
    ['empty body', ''],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x63, 0xff, 0xfe, 0x22, 0x7d])],
  ])('rejects %s with 400 and touches nothing', async (_name, raw) => {
    const res = await call(api, 'POST', '/private/notes/migrate', {
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('VALIDATION_ERROR');
    await untouched();
  });

  it('rejects a huge body with 413 by Content-Length, and a huge chunked body while reading it', async () => {
    const big = JSON.stringify({ cid: '1', company_sso_id: 'co-1', pad: 'x'.repeat(1_000_000) });
    const declared = await call(api, 'POST', '/private/notes/migrate', {
      raw: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(declared).toMatchObject({ status: 413, json: { error: 'PAYLOAD_TOO_LARGE' } });

    const { request } = await import('undici');
    const { Readable } = await import('node:stream');
    const chunks = Array.from({ length: 64 }, () => Buffer.from('x'.repeat(1024)));
    const res = await request(`${api.url}/private/notes/migrate`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('ops:test-password-123').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: Readable.from(chunks),
    });
    expect(res.statusCode).toBe(413);
    expect(await res.body.json()).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
    await untouched();
  });

  it('rejects text/plain, form bodies and a missing Content-Type with 415', async () => {
    const variants: Record<string, string>[] = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      {},
    ];
    for (const headers of variants) {
      const res = await call(api, 'POST', '/private/notes/migrate', {
        raw: '{"cid":"1","company_sso_id":"co-1"}',
        headers,
      });
      expect(res.status).toBe(415);
      expect(res.json.error).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    await untouched();
  });
});

describe('hostile input to the query-string routes', () => {
  it.each([
    ['/private/notes/migration/status?cid[$ne]=1', 'bracket operator key'],
    ['/private/notes/migration/status?cid=1&cid=2', 'repeated cid'],
    ['/private/notes/migration/status?cid=%7B%22%24ne%22%3Anull%7D', 'JSON operator in cid'],
    ['/private/notes/migration/status?cid=%D9%A1%D9%A2', 'Arabic-Indic digits'],
    ['/private/notes/migration/status', 'missing cid'],
    ['/private/notes/migration/runs?cid=9&limit=100000', 'limit over the ceiling'],
    ['/private/notes/migration/failures?cid=9&reason_code=%7B%24ne%3A1%7D', 'operator reason code'],
    ['/private/notes/migration/failures?cid=9&severity=fatal', 'unknown severity'],
    ['/private/notes/migration/failures?cid=9&after=zzz', 'malformed cursor'],
    ['/private/notes/migration/failures?cid=9&format=xlsx', 'unknown format'],
    ['/private/notes/migration/status/stream?cid=9%00', 'NUL in cid'],
  ])('rejects %s (%s) with 400', async (path) => {
    const res = await call(api, 'GET', path);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'VALIDATION_ERROR', details: { location: 'query' } });
  });

  it('rejects a cancel with an operator cid with 400 and cancels nothing', async () => {
    await t.collections.runs.updateOne({ _id: 'existing' }, { $set: { status: 'in_progress' } });
    const res = await call(api, 'POST', '/private/notes/migration/cancel', { body: { cid: { $gt: '' } } });
    expect(res.status).toBe(400);
    expect((await t.repos.runs.get('existing'))?.cancel_requested).toBe(false);
    await t.collections.runs.updateOne({ _id: 'existing' }, { $set: { status: 'halted' } });
  });
});
