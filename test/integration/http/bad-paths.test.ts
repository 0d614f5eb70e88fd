/**
 * Crafted paths over a real port (issue #11): traversal and malformed percent-encoding anywhere,
 * the mounted dashboard included, are a 4xx with the JSON error body, never a 500, and log no
 * error. Sent on a bare socket so no client normalises them first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAgenda } from '../../../src/jobs/agenda-factory.js';
import { createLogger, createSilentLogger } from '../../../src/logger.js';
import { type ApiUnderTest, BASIC, startApi } from '../../helpers/api-server.js';
import { trackResource } from '../../helpers/leak-check.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const logLines: { level: number; msg: string }[] = [];
let api: ApiUnderTest;
let stopAgenda: () => Promise<void>;

beforeAll(async () => {
  const agenda = await createAgenda({
    db: t.db,
    name: 'bad-paths',
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
  trackResource('agenda (bad paths)', () => open, stopAgenda, 'file');
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void logLines.push(JSON.parse(line)) },
  });
  api = await startApi(t, { agenda, logger, scope: 'file' });
});

afterAll(async () => {
  await api.close();
  await stopAgenda();
});

const TRAVERSALS = [
  '/private/dash/../../etc/passwd',
  '/private/dash/%2e%2e/%2e%2e/etc/passwd',
  '/private/dash/%2E%2E/%2E%2E/etc/passwd',
  '/private/dash/..%2f..%2fetc%2fpasswd',
  '/private/dash/..%2F..%2Fetc%2Fpasswd',
  '/private/dash/..%5c..%5cetc%5cpasswd',
  '/private/dash/..\\..\\etc\\passwd',
  '/private/dash/assets/../../package.json',
  '/private/dash/assets/..%2f..%2fpackage.json',
  '/private/dash/assets/%2e%2e',
  '/private/dash/./api',
  '/private/notes/../../etc/passwd',
  '/v1/contacts/..%2f..%2f/notes',
  '/healthz/..',
  '/..',
  '/private/dash/assets/index.js%00.png',
];
const MALFORMED = [
  '/private/dash/%',
  '/private/dash/%zz',
  '/private/dash/%e0%80',
  '/private/dash/%c0%ae%c0%ae/etc/passwd',
  '/private/dash/assets/%ff',
  '/private/notes/migration/status%',
  '/v1/contacts/%E2%28%A1/notes',
  '/%',
];

describe('crafted paths (issue #11)', () => {
  it.each([...TRAVERSALS, ...MALFORMED])(
    'answers %s with 400 VALIDATION_ERROR, with or without credentials',
    async (path) => {
      for (const headers of [{}, { authorization: BASIC }] as Record<string, string>[]) {
        const res = await rawRequest(api.url, 'GET', path, { headers });
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.json).toMatchObject({ error: 'VALIDATION_ERROR', details: { location: 'path' } });
        expect(res.json.message).toMatch(/^Request path is not canonical: it contains /);
      }
    },
  );

  it.each([
    '/private/dash/%252e%252e/%252e%252e/etc/passwd',
    '/private/dash/assets/index.html',
    '/private/dash/assets/.hidden',
    '/private/dash/index.html',
    '/private/dash/api/jobs/create/',
  ])('answers %s, which names no file or route, with 404 NOT_FOUND', async (path) => {
    const headers = { authorization: BASIC };
    const res = await rawRequest(api.url, path.endsWith('create/') ? 'POST' : 'GET', path, { headers });
    expect(res).toMatchObject({ status: 404, json: { error: 'NOT_FOUND' } });
  });

  it('logged none of them at error level', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
