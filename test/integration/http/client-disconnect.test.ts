/**
 * Log levels operators can trust (issue #11): an SSE client that leaves — a closed tab (FIN) or a
 * dropped connection (RST) — is logged at debug with route and duration, never at error.
 */
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../../../src/logger.js';
import { makeRun } from '../../fixtures/builders.js';
import { type ApiUnderTest, BASIC, metricValue, startApi } from '../../helpers/api-server.js';
import { openSse } from '../../helpers/sse-client.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const STREAM_ROUTE = '/private/notes/migration/status/stream';

interface LogLine {
  level: number;
  msg: string;
  route?: string;
  method?: string;
  duration_ms?: number;
  code?: string;
}
const lines: LogLine[] = [];
let api: ApiUnderTest;

beforeAll(async () => {
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  api = await startApi(t, { logger, scope: 'file', config: { sseHeartbeatMs: 20 } });
  // A run in progress: its stream stays open until the client leaves.
  await t.collections.runs.insertOne(makeRun({ _id: 'open-run', cid: '8101', status: 'in_progress' }));
});

afterAll(() => api.close());

const disconnects = () => lines.filter((l) => l.msg === 'client disconnected');

async function streamsClosed() {
  await waitFor(
    () => metricValue(api, 'cnm_sse_streams_open'),
    (open) => open === 0,
    { what: 'the SSE stream to be closed on the server' },
  );
}

describe('client disconnects (issue #11)', () => {
  it('logs an SSE client that closes its tab at debug, with route and duration, and nothing at error', async () => {
    const before = disconnects().length;
    const sse = await openSse(api.url, `${STREAM_ROUTE}?cid=8101`);
    await waitFor(
      () => sse.comments.length,
      (n) => n >= 2,
      { what: 'two heartbeats (the stream is flowing)' },
    );
    sse.close();
    await sse.ended;
    await waitFor(
      () => disconnects().length,
      (n) => n > before,
      { what: 'the disconnect to be logged' },
    );
    await streamsClosed();
    expect(disconnects().at(-1)).toMatchObject({
      level: 20,
      method: 'GET',
      route: STREAM_ROUTE,
      duration_ms: expect.any(Number),
    });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('logs a connection reset mid-stream at debug too', async () => {
    const before = disconnects().length;
    const { hostname, port } = new URL(api.url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.write(
      `GET ${STREAM_ROUTE}?cid=8101 HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: ${BASIC}\r\n\r\n`,
    );
    let received = '';
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        if (received.split(': ping').length > 2) resolve();
      });
    });
    socket.resetAndDestroy();
    await waitFor(
      () => disconnects().length,
      (n) => n > before,
      { what: 'the reset to be logged' },
    );
    await streamsClosed();
    expect(disconnects().at(-1)).toMatchObject({ level: 20, route: STREAM_ROUTE });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
