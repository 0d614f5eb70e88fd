/**
 * The plumbing every Server-Sent Events route shares: the response headers, the `retry:` hint,
 * heartbeat comments, dropping a client that falls too far behind, ending on client close or
 * server shutdown, and the open-stream gauge. What a stream sends is its route's business.
 */
import { PassThrough } from 'node:stream';

import type { Context } from 'koa';

import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SseObserver } from '../metrics.js';

/** The app event that ends every open stream (emitted by `startHttpServer().close()`). */
export const SHUTDOWN_EVENT = 'shutdown';

/** Default heartbeat: below the 30–60 s idle timeouts of common proxies. */
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;

/** Reconnect delay suggested to EventSource clients (`retry:`). */
export const DEFAULT_SSE_RETRY_MS = 3_000;

/** A client this far behind is dropped rather than buffered for. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface SseChannelOptions {
  logger: Logger;
  sse?: SseObserver | undefined;
  heartbeatMs: number;
  retryMs?: number | undefined;
  /** Aborted when the client leaves, falls behind or the server shuts down. */
  abort: AbortController;
}

export interface SseChannel {
  /** One event; `id` becomes the client's `Last-Event-ID` when it reconnects. */
  send(event: string, data: unknown, id?: string): void;
  readonly signal: AbortSignal;
}

/**
 * Answers `ctx` with an event stream and runs `pump` on it. When `pump` settles (or throws, which
 * is logged and sent as `event: error`), the heartbeat stops, `cleanup` runs and the stream ends.
 */
export function runSseChannel(
  ctx: Context,
  options: SseChannelOptions,
  pump: (channel: SseChannel) => Promise<void>,
  cleanup: () => Promise<void>,
): void {
  const body = new PassThrough();
  const { abort, logger } = options;
  ctx.req.socket.setNoDelay(true);
  ctx.req.socket.setTimeout(0);
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache, no-transform');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.body = body;

  const write = (chunk: string) => {
    if (body.destroyed || body.writableEnded) return;
    if (!body.write(chunk) && body.writableLength > MAX_BUFFERED_BYTES) {
      logger.warn({ buffered: body.writableLength }, 'SSE client too slow; dropping it');
      abort.abort();
    }
  };
  const channel: SseChannel = {
    send(event, data, id) {
      write(`event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
    },
    signal: abort.signal,
  };

  const heartbeat = setInterval(() => write(': ping\n\n'), options.heartbeatMs);
  const stop = () => abort.abort();
  ctx.res.once('close', stop);
  body.once('close', stop);
  ctx.app.once(SHUTDOWN_EVENT, stop);
  options.sse?.streamOpened();
  write(`retry: ${options.retryMs ?? DEFAULT_SSE_RETRY_MS}\n\n`);

  void pump(channel)
    .catch((e: unknown) => {
      logger.error({ err: toError(e) }, 'event stream failed');
      channel.send('error', { error: 'INTERNAL', message: 'event stream failed' });
    })
    .finally(async () => {
      clearInterval(heartbeat);
      ctx.res.off('close', stop);
      body.off('close', stop);
      ctx.app.off(SHUTDOWN_EVENT, stop);
      abort.abort();
      await cleanup().catch(() => undefined);
      body.end();
      options.sse?.streamClosed();
    });
}
