/**
 * A Server-Sent Events reader for tests: undici for the request, eventsource-parser for the
 * frames. Collects events and comments as they arrive; `close()` hangs up like a browser tab.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { request } from 'undici';

import { BASIC } from './api-server.js';
import { trackResource } from './leak-check.js';

export interface SseClient {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: EventSourceMessage[];
  comments: string[];
  /** The id of the last event that carried one (what an EventSource would send back). */
  lastEventId(): string | undefined;
  /** Status bodies of the `status` events, parsed. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read event bodies loosely
  statuses(): any[];
  /** Resolves when the server ends the stream (or the client hung up). */
  ended: Promise<void>;
  readonly isEnded: boolean;
  close(): void;
}

export interface OpenSseOptions {
  /** Sent as `Last-Event-ID`, as an EventSource does when it reconnects. */
  lastEventId?: string;
}

export async function openSse(
  baseUrl: string,
  path: string,
  auth: string | null = BASIC,
  options: OpenSseOptions = {},
): Promise<SseClient> {
  const abort = new AbortController();
  const res = await request(`${baseUrl}${path}`, {
    headers: {
      accept: 'text/event-stream',
      ...(auth === null ? {} : { authorization: auth }),
      ...(options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId }),
    },
    signal: abort.signal,
  });
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c.trim()) });
  let isEnded = false;
  const ended = (async () => {
    try {
      for await (const chunk of res.body) parser.feed((chunk as Buffer).toString('utf8'));
    } catch {
      // Aborted by close(): the end of the stream for this client.
    } finally {
      isEnded = true;
    }
  })();
  const untrack = trackResource(
    `SSE client ${path}`,
    () => !isEnded,
    () => abort.abort(),
  );
  void ended.then(untrack);
  return {
    status: res.statusCode,
    headers: res.headers,
    events,
    comments,
    lastEventId: () => events.findLast((e) => e.id !== undefined)?.id,
    statuses: () => events.filter((e) => e.event === 'status').map((e) => JSON.parse(e.data)),
    ended,
    get isEnded() {
      return isEnded;
    },
    close: () => abort.abort(),
  };
}
