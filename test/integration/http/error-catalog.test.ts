import { describe, expect, it } from 'vitest';

import { MIGRATION_FLAG } from '../../../src/domain.js';
import { ERROR_CATALOG } from '../../../src/error-catalog.js';
import { UpstreamError } from '../../../src/errors.js';
import { makeRun } from '../../fixtures/builders.js';
import { call, type CallResult, createRecordingQueue, startApi } from '../../helpers/api-server.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);

let cidSeq = 2000;
async function enabledCid(): Promise<string> {
  const cid = String(cidSeq++);
  await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
  return cid;
}

function expectError(res: CallResult, status: number, code: keyof typeof ERROR_CATALOG) {
  expect({ status: res.status, error: res.json?.error }).toEqual({ status, error: code });
  expect(Object.keys(res.json as object).sort()).toEqual(['details', 'error', 'message']);
  expect(typeof res.json.message).toBe('string');
  expect(res.json.details).toBeTypeOf('object');
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(ERROR_CATALOG[code].status).toBe(status);
}

async function nothingWritten(cid: string) {
  expect(await t.collections.runs.countDocuments({ cid })).toBe(0);
  expect(await t.collections.locks.countDocuments({ _id: cid })).toBe(0);
}

describe('error catalog on a real port', () => {
  it('answers 200 with job_id, run_id and in_progress when every guard passes', async () => {
    const api = await startApi(t);
    const cid = await enabledCid();
    const res = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid, company_sso_id: 'co-1' },
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      job_id: expect.any(String),
      run_id: expect.any(String),
      status: 'in_progress',
    });
    expect(await t.repos.runs.get(res.json.run_id)).toMatchObject({ cid, job_id: res.json.job_id });
    await api.close();
  });

  it('answers 401 UNAUTHORIZED with a Basic challenge for no credentials, wrong credentials and a bearer token', async () => {
    const api = await startApi(t);
    const body = { cid: '1', company_sso_id: 'co-1' };
    for (const auth of [
      null,
      `Basic ${Buffer.from('ops:wrong').toString('base64')}`,
      `Basic ${Buffer.from('someone:test-password-123').toString('base64')}`,
      'Basic not-base64!!',
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMifQ.sig',
    ]) {
      const res = await call(api, 'POST', '/private/notes/migrate', { body, auth });
      expectError(res, 401, 'UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="crm-notes-migrator"/);
    }
    const bearer = await call(api, 'GET', '/private/notes/migration/status?cid=1', { auth: 'Bearer abc' });
    expect(bearer.json.message).toMatch(/Bearer tokens are not accepted/);
    await api.close();
  });

  it('answers 400 VALIDATION_ERROR with the zod issues', async () => {
    const api = await startApi(t);
    const res = await call(api, 'POST', '/private/notes/migrate', { body: { cid: 'abc', mode: 'sideways' } });
    expectError(res, 400, 'VALIDATION_ERROR');
    expect(res.json.details.location).toBe('body');
    expect(res.json.details.issues.map((i: { path: string[] }) => i.path.join('.')).sort()).toEqual([
      'cid',
      'company_sso_id',
      'mode',
    ]);
    expect(res.json.message).toContain(`cid must be a positive integer or a string of ASCII digits`);
    await api.close();
  });

  it('answers 415 for a body that is not JSON and 413 for a body over MAX_BODY_BYTES', async () => {
    const api = await startApi(t);
    const plain = await call(api, 'POST', '/private/notes/migrate', {
      raw: 'cid=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(plain, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const latin1 = await call(api, 'POST', '/private/notes/migrate', {
      raw: '{}',
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
    expectError(latin1, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const huge = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: '1', company_sso_id: 'x'.repeat(5000) },
    });
    expectError(huge, 413, 'PAYLOAD_TOO_LARGE');
    expect(huge.json.details).toEqual({ max_body_bytes: 4096 });
    await api.close();
  });

  it('answers 403 FLAG_DISABLED and enqueues nothing when the flag is off', async () => {
    const jobs = createRecordingQueue();
    const api = await startApi(t, { jobs });
    const cid = String(cidSeq++);
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, false, new Date());
    const res = await call(api, 'POST', '/private/notes/migrate', { body: { cid, company_sso_id: 'co-1' } });
    expectError(res, 403, 'FLAG_DISABLED');
    expect(res.json.details).toEqual({ cid, flag: MIGRATION_FLAG });
    expect(jobs.jobs).toEqual([]);
    await nothingWritten(cid);
    await api.close();
  });

  it('answers 404 CID_NOT_FOUND when CRM does not know the organisation, and 502 CRM_UNAVAILABLE when CRM is down', async () => {
    let answer: () => Promise<{ total: number }> = () =>
      Promise.reject(new UpstreamError('CID_NOT_FOUND', 'CRM has no organisation 1 (404)'));
    const api = await startApi(t, { extractor: { probeOrganization: () => answer() } });
    const cid = await enabledCid();
    const notFound = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid, company_sso_id: 'co-1' },
    });
    expectError(notFound, 404, 'CID_NOT_FOUND');
    answer = () => Promise.reject(new UpstreamError('CRM_UNAVAILABLE', 'CRM answered 503 three times'));
    const down = await call(api, 'POST', '/private/notes/migrate', { body: { cid, company_sso_id: 'co-1' } });
    expectError(down, 502, 'CRM_UNAVAILABLE');
    expect(down.json.message).toBe('CRM answered 503 three times');
    await nothingWritten(cid);
    await api.close();
  });

  it('answers 409 ALREADY_MIGRATED after a successful run, 409 JOB_ALREADY_RUNNING while one runs, 409 NO_RUN_TO_RESUME', async () => {
    const api = await startApi(t);
    const done = await enabledCid();
    await t.collections.runs.insertOne(
      makeRun({ _id: `run-${done}`, cid: done, status: 'completed_success', finished_at: new Date() }),
    );
    const migrated = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: done, company_sso_id: 'co-1' },
    });
    expectError(migrated, 409, 'ALREADY_MIGRATED');
    expect(migrated.json.details.run_id).toBe(`run-${done}`);

    const busy = await enabledCid();
    const first = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: busy, company_sso_id: 'co-1' },
    });
    const second = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: busy, company_sso_id: 'co-1' },
    });
    expectError(second, 409, 'JOB_ALREADY_RUNNING');
    expect(second.json.details).toMatchObject({ cid: busy, run_id: first.json.run_id, state: 'queued' });

    const fresh = await enabledCid();
    const resume = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid: fresh, company_sso_id: 'co-1', mode: 'resume' },
    });
    expectError(resume, 409, 'NO_RUN_TO_RESUME');
    await api.close();
  });

  it('answers 404 NOT_FOUND for an unknown route and a cancel with no run, 405 for a wrong method', async () => {
    const api = await startApi(t);
    expectError(await call(api, 'GET', '/private/nope'), 404, 'NOT_FOUND');
    expectError(await call(api, 'GET', '/nope', { auth: null }), 404, 'NOT_FOUND');
    const cancel = await call(api, 'POST', '/private/notes/migration/cancel', { body: { cid: '424242' } });
    expectError(cancel, 404, 'NOT_FOUND');
    const wrong = await call(api, 'GET', '/private/notes/migrate');
    expectError(wrong, 405, 'METHOD_NOT_ALLOWED');
    expect(wrong.headers.allow).toContain('POST');
    await api.close();
  });

  it('answers 500 INTERNAL with the message hidden and logs the stack', async () => {
    const lines: string[] = [];
    const { createLogger } = await import('../../../src/logger.js');
    const logger = createLogger({
      level: 'error',
      destination: { write: (l: string) => void lines.push(l) },
    });
    const api = await startApi(t, {
      logger,
      override: (deps) => ({
        ...deps,
        runs: {
          ...deps.runs,
          latestForCid: () => Promise.reject(new Error('connection to mongodb://admin:hunter2@db failed')),
        },
      }),
    });
    const res = await call(api, 'GET', '/private/notes/migration/status?cid=7');
    expectError(res, 500, 'INTERNAL');
    expect(res.text).not.toContain('hunter2');
    expect(res.json.details).toEqual({});
    expect(lines.join('')).toContain('hunter2');
    expect(lines.join('')).toContain('"stack"');
    await api.close();
  });

  it('answers 503 NOT_READY from /readyz when MongoDB does not answer, 200 otherwise', async () => {
    const ok = await startApi(t);
    expect(await call(ok, 'GET', '/readyz', { auth: null })).toMatchObject({
      status: 200,
      json: { status: 'ready' },
    });
    expect(await call(ok, 'GET', '/healthz', { auth: null })).toMatchObject({
      status: 200,
      json: { status: 'ok' },
    });
    await ok.close();
    const down = await startApi(t, {
      override: (deps) => ({
        ...deps,
        pingDatabase: () => Promise.reject(new Error('ECONNREFUSED 10.0.0.1')),
      }),
    });
    const res = await call(down, 'GET', '/readyz', { auth: null });
    expectError(res, 503, 'NOT_READY');
    expect(res.text).not.toContain('10.0.0.1');
    await down.close();
  });

  it('guards the read path with its own bearer token and a Bearer challenge', async () => {
    const api = await startApi(t);
    const path = '/v1/contacts/c1/notes?company_sso_id=co-1';
    const basic = await call(api, 'GET', path, {
      auth: `Basic ${Buffer.from('ops:test-password-123').toString('base64')}`,
    });
    expectError(basic, 401, 'UNAUTHORIZED');
    expect(basic.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expectError(await call(api, 'GET', path, { auth: 'Bearer wrong' }), 401, 'UNAUTHORIZED');
    await api.close();
    const closed = await startApi(t, { config: { readApiToken: undefined } });
    const res = await call(closed, 'GET', path, { auth: 'Bearer anything' });
    expectError(res, 401, 'UNAUTHORIZED');
    expect(res.json.message).toMatch(/READ_API_TOKEN is not configured/);
    await closed.close();
  });
});
