/**
 * `GET /private/notes/migration/status/stream?cid=`: Server-Sent Events with the status body on
 * every change (`event: status`), heartbeat comments (`: ping`), and `event: end` after a terminal
 * status, then the stream closes. A client that goes away, or a server shutdown (the app's
 * `shutdown` event), ends the feed and so closes its change stream.
 */
import { PassThrough } from 'node:stream';

import type { Router } from '@koa/router';

import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SseObserver } from '../metrics.js';
import { parseInput } from './parse-input.js';
import type { RunStatusFeed } from './run-status-feed.js';
import { StatusQuerySchema } from './status-routes.js';
import { isFinalStatus, type StatusView } from './status-view.js';

/** The app event that ends every open stream (emitted by `startHttpServer().close()`). */
export const SHUTDOWN_EVENT = 'shutdown';

/** Default heartbeat: below the 30–60 s idle timeouts of common proxies. */
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;

/** A client this far behind is dropped rather than buffered for. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface StatusStreamDeps {
  feed: RunStatusFeed;
  logger: Logger;
  sse?: SseObserver | undefined;
  heartbeatMs: number;
  /** Reconnect delay suggested to EventSource clients. */
  retryMs?: number;
}

export function registerStatusStream(router: Router, deps: StatusStreamDeps): void {
  router.get('/private/notes/migration/status/stream', async (ctx) => {
    const { cid } = parseInput(StatusQuerySchema, ctx.query, 'query');
    const abort = new AbortController();
    const updates = deps.feed.watch(cid, abort.signal);
    let first: IteratorResult<StatusView, void>;
    try {
      // Read before answering: a database error is still a JSON error with a status code.
      first = await updates.next();
    } catch (e) {
      abort.abort();
      throw e;
    }

    const body = new PassThrough();
    const log = deps.logger.child({ cid });
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
        log.warn({ buffered: body.writableLength }, 'SSE client too slow; dropping it');
        abort.abort();
      }
    };
    let seq = 0;
    const send = (view: StatusView) =>
      write(`event: status\nid: ${++seq}\ndata: ${JSON.stringify(view)}\n\n`);

    const heartbeat = setInterval(() => write(': ping\n\n'), deps.heartbeatMs);
    const stop = () => abort.abort();
    ctx.res.once('close', stop);
    body.once('close', stop);
    ctx.app.once(SHUTDOWN_EVENT, stop);
    deps.sse?.streamOpened();

    const pump = async () => {
      write(`retry: ${deps.retryMs ?? 3_000}\n\n`);
      let view = first.done ? undefined : first.value;
      while (view !== undefined) {
        send(view);
        if (isFinalStatus(view)) {
          write(`event: end\ndata: ${JSON.stringify({ status: view.status })}\n\n`);
          return;
        }
        const next = await updates.next();
        if (abort.signal.aborted || next.done) return;
        view = next.value;
      }
    };

    void pump()
      .catch((e: unknown) => {
        log.error({ err: toError(e) }, 'status stream failed');
        write(
          `event: error\ndata: ${JSON.stringify({ error: 'INTERNAL', message: 'status stream failed' })}\n\n`,
        );
      })
      .finally(async () => {
        clearInterval(heartbeat);
        ctx.res.off('close', stop);
        body.off('close', stop);
        ctx.app.off(SHUTDOWN_EVENT, stop);
        abort.abort();
        await updates.return(undefined).catch(() => undefined);
        body.end();
        deps.sse?.streamClosed();
      });
  });
}
