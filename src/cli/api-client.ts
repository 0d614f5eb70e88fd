/**
 * The operator CLI's client for a running service's HTTP API (undici, HTTP Basic). Error bodies
 * `{error, message}` become one readable line; Server-Sent Events are parsed with
 * eventsource-parser.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
// eslint-disable-next-line local-security/no-raw-outbound-request -- the operator CLI calls the service's own API at the --api-url it was given; no URL from CRM or CDP data ever reaches it
import { request } from 'undici';

import { abortableDelay } from '../abortable-delay.js';
import { toError } from '../errors.js';

export interface ApiClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs?: number;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export class ApiClientError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'ApiClientError';
  }
}

export function createApiClient(options: ApiClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const timeout = options.timeoutMs ?? 30_000;

  async function send(method: 'GET' | 'POST', path: string, body?: unknown) {
    try {
      return await request(`${base}${path}`, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          // Labels runs this CLI triggers in their audit stamp (`triggered_by: "ops (cli)"`).
          'x-triggered-via': 'cli',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: timeout,
        bodyTimeout: 0,
      });
    } catch (e) {
      throw new ApiClientError(`cannot reach the service at ${base}: ${toError(e).message}`, null, null);
    }
  }

  async function json<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await send(method, path, body);
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiClientError(
        `${method} ${path}: HTTP ${res.statusCode} with a body that is not JSON`,
        res.statusCode,
        null,
      );
    }
    if (res.statusCode >= 400) throw errorFrom(method, path, res.statusCode, parsed);
    return parsed as T;
  }

  /** One connection of an event stream; true when at least one event arrived on it. */
  async function readStreamOnce(
    path: string,
    onEvent: (event: EventSourceMessage) => boolean | void,
    signal: AbortSignal | undefined,
    state: StreamState,
  ): Promise<boolean> {
    const res = await request(`${base}${path}`, {
      method: 'GET',
      headers: {
        authorization,
        accept: 'text/event-stream',
        ...(state.lastEventId === undefined ? {} : { 'last-event-id': state.lastEventId }),
      },
      headersTimeout: timeout,
      bodyTimeout: 0,
      ...(signal ? { signal } : {}),
    }).catch((e: unknown) => {
      throw new ApiClientError(`cannot reach the service at ${base}: ${toError(e).message}`, null, null);
    });
    if (res.statusCode >= 400) {
      const text = await res.body.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      throw errorFrom('GET', path, res.statusCode, parsed);
    }
    let progressed = false;
    const parser = createParser({
      onEvent: (event) => {
        if (state.done) return;
        progressed = true;
        if (event.id !== undefined) state.lastEventId = event.id;
        if (onEvent(event) === true) state.done = true;
      },
      onRetry: (ms) => {
        state.retryMs = ms;
      },
    });
    try {
      for await (const chunk of res.body) {
        parser.feed((chunk as Buffer).toString('utf8'));
        if (state.done) break;
      }
    } catch (e) {
      // A connection cut mid-stream: the caller reconnects.
      if (signal?.aborted) throw e;
      return progressed;
    } finally {
      res.body.destroy();
    }
    return progressed;
  }

  return {
    get: <T>(path: string) => json<T>('GET', path),
    post: <T>(path: string, body: unknown) => json<T>('POST', path, body),

    /** Streams a response body (exports) to `sink`, chunk by chunk. */
    async download(path: string, sink: (chunk: Buffer) => Promise<void> | void): Promise<void> {
      const res = await send('GET', path);
      if (res.statusCode >= 400) {
        const text = await res.body.text();
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: reported by status below
        }
        throw errorFrom('GET', path, res.statusCode, parsed);
      }
      for await (const chunk of res.body) await sink(chunk as Buffer);
    },

    /**
     * Reads Server-Sent Events until `onEvent` returns true. A stream that ends or breaks before
     * that is reopened after the server's `retry:` delay with `Last-Event-ID` (the id of the last
     * event read), so the server resumes from the current state instead of the start (#17); it
     * gives up after `maxReconnects` attempts in a row that brought no event. An HTTP error
     * answer is not retried.
     */
    async events(
      path: string,
      onEvent: (event: EventSourceMessage) => boolean | void,
      options: EventStreamOptions = {},
    ): Promise<void> {
      const state: StreamState = { lastEventId: undefined, retryMs: DEFAULT_RETRY_MS, done: false };
      const maxReconnects = options.maxReconnects ?? DEFAULT_MAX_RECONNECTS;
      let quietAttempts = 0;
      for (;;) {
        let progressed = false;
        try {
          progressed = await readStreamOnce(path, onEvent, options.signal, state);
        } catch (e) {
          // An HTTP error answer or our own abort ends it; an unreachable service is retried.
          const unreachable = e instanceof ApiClientError && e.status === null;
          if (options.signal?.aborted || !unreachable || quietAttempts >= maxReconnects) throw e;
        }
        if (state.done || options.signal?.aborted) return;
        quietAttempts = progressed ? 0 : quietAttempts + 1;
        if (quietAttempts > maxReconnects) {
          throw new ApiClientError(
            `the event stream ${path} closed ${quietAttempts} times in a row without an event; giving up`,
            null,
            null,
          );
        }
        options.onReconnect?.(state.lastEventId);
        await abortableDelay(Math.min(state.retryMs, MAX_RETRY_MS), options.signal);
      }
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

export interface EventStreamOptions {
  signal?: AbortSignal;
  /** Reconnects in a row without an event before giving up. Default 10. */
  maxReconnects?: number;
  /** Called before each reconnect, with the id it will resume from. */
  onReconnect?: (lastEventId: string | undefined) => void;
}

interface StreamState {
  lastEventId: string | undefined;
  /** The server's `retry:` hint. */
  retryMs: number;
  /** `onEvent` said it has seen enough. */
  done: boolean;
}

/** EventSource's own default when the server sends no `retry:`. */
const DEFAULT_RETRY_MS = 3_000;
/** However long the server asks for, the CLI tries again within this. */
const MAX_RETRY_MS = 30_000;
const DEFAULT_MAX_RECONNECTS = 10;

function errorFrom(method: string, path: string, status: number, body: unknown): ApiClientError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown };
  const code = typeof b.error === 'string' ? b.error : null;
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  return new ApiClientError(
    `${method} ${path}: ${status}${code ? ` ${code}` : ''}: ${message}`,
    status,
    code,
  );
}

/** Maps a client error to an AppError-like exit: 2 for a refused request, 1 otherwise. */
export function isRejection(e: unknown): boolean {
  return e instanceof ApiClientError && e.status !== null && e.status >= 400 && e.status < 500;
}
