/**
 * `status --watch` and the CLI's event-stream client survive a network blip (#17): the connection
 * is cut mid-run by a proxy, the client reconnects with `Last-Event-ID`, resumes from the current
 * state and sees the terminal status exactly once.
 */
import { Readable, Writable } from 'node:stream';

import type { EventSourceMessage } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';

import { createApiClient } from '../../../src/cli/api-client.js';
import { EXIT } from '../../../src/cli/cli-io.js';
import { createProgram } from '../../../src/cli/program.js';
import { API_PASSWORD, API_USER, startApi } from '../../helpers/api-server.js';
import { type CuttingProxy, startCuttingProxy } from '../../helpers/cutting-proxy.js';
import { createMappedTenant } from '../../helpers/mapped-tenant.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
let cidSeq = 7800;

function tenant(count: number) {
  return createMappedTenant(t, String(cidSeq++), count);
}

/** On page 3 (pages 1-2 written), cut every connection and wait until the client is back. */
function cutOnPage3(
  proxy: CuttingProxy,
  runs: { get(id: string): Promise<{ notes_processed: number } | null> },
) {
  return async (page: number, runId: string) => {
    if (page !== 3) return;
    await waitFor(
      () => runs.get(runId),
      (r) => r?.notes_processed === 6,
      { what: 'pages 1-2 committed' },
    );
    const before = proxy.requests.length;
    proxy.cutAll();
    await waitFor(
      () => proxy.requests.length,
      (n) => n > before,
      { what: 'the client to reconnect' },
    );
  };
}

const lastEventIdOf = (head: string | undefined) => /\r\nlast-event-id: ([^\r\n]+)/i.exec(head ?? '')?.[1];

describe('reconnecting the status stream from the CLI', () => {
  it('the API client resumes with Last-Event-ID and sees the terminal status exactly once', async () => {
    const api = await startApi(t, { pollMs: 20, config: { sseRetryMs: 20 } });
    const proxy = await startCuttingProxy(api.url);
    try {
      const { cid, crm, h } = await tenant(12);
      const { runId } = await h.trigger({ cid });
      const onPage = cutOnPage3(proxy, t.repos.runs);
      crm.beforePage = (page) => onPage(page, runId);
      const events: EventSourceMessage[] = [];
      const reconnects: (string | undefined)[] = [];
      const client = createApiClient({ baseUrl: proxy.url, username: API_USER, password: API_PASSWORD });
      const watching = client.events(
        `/private/notes/migration/status/stream?cid=${cid}`,
        (e) => {
          events.push(e);
          return e.event === 'end';
        },
        { onReconnect: (id) => reconnects.push(id) },
      );
      expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });
      await watching;

      const statuses = events.filter((e) => e.event === 'status').map((e) => JSON.parse(e.data));
      expect(statuses.filter((s) => s.status === 'completed_success')).toHaveLength(1);
      expect(statuses.map((s) => s.notes_processed)).toEqual(
        [...statuses.map((s) => s.notes_processed)].sort((a, b) => a - b),
      );
      expect(reconnects).toHaveLength(1);
      // The second request carried the id of the last frame read before the cut.
      expect(proxy.requests).toHaveLength(2);
      expect(lastEventIdOf(proxy.requests[0])).toBeUndefined();
      expect(lastEventIdOf(proxy.requests[1])).toBe(reconnects[0]);
      expect(events.filter((e) => e.event === 'end')).toHaveLength(1);
    } finally {
      await proxy.close();
      await api.close();
    }
  });

  it('`status --watch` says it reconnects and prints the final status once', async () => {
    const api = await startApi(t, { pollMs: 20, config: { sseRetryMs: 20 } });
    const proxy = await startCuttingProxy(api.url);
    try {
      const { cid, crm, h } = await tenant(12);
      const { runId } = await h.trigger({ cid });
      const onPage = cutOnPage3(proxy, t.repos.runs);
      crm.beforePage = (page) => onPage(page, runId);
      let stdout = '';
      let stderr = '';
      let exitCode: number = EXIT.ok;
      const sink = (append: (s: string) => void) =>
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            append(chunk.toString('utf8'));
            done();
          },
        });
      const program = createProgram({
        env: { NOTES_MIGRATOR_URL: proxy.url, API_USERNAME: API_USER, API_PASSWORD },
        stdin: Readable.from([]),
        stdout: sink((s) => (stdout += s)),
        stderr: sink((s) => (stderr += s)),
        setExitCode: (code) => (exitCode = code),
      });
      const watching = program.parseAsync(['node', 'notes-migrator', 'status', '--cid', cid, '--watch']);
      expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });
      await watching;

      expect(exitCode).toBe(EXIT.ok);
      expect(stderr).toBe('status stream interrupted; reconnecting\n');
      const lines = stdout.trim().split('\n');
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ status: 'completed_success', notes_processed: 12 });
      expect(lines.filter((l) => l.includes('completed_success'))).toHaveLength(2); // the bar's last line + the JSON
      expect(lastEventIdOf(proxy.requests[1])).toMatch(new RegExp(`^${runId}\\.[0-9a-f]{16}$`));
    } finally {
      await proxy.close();
      await api.close();
    }
  });
});
