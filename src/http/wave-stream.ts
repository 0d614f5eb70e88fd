/**
 * `GET /private/notes/waves/:wave_id/stream` (#16): Server-Sent Events with the wave view now and
 * whenever it changes (`event: wave`, read every `pollMs`: the scheduler rewrites the wave's fleet
 * sample on each tick anyway, so a change stream would wake as often), `: ping` heartbeats, and
 * `event: end` once the wave has ended. A client that leaves, or a server shutdown, ends it.
 */
import { PassThrough } from 'node:stream';

import type { Router } from '@koa/router';

import type { WavesRepository } from '../db/waves-repository.js';
import { isTerminalWaveState } from '../domain.js';
import { AppError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SseObserver } from '../metrics.js';
import { parseInput } from './parse-input.js';
import { SHUTDOWN_EVENT } from './status-stream.js';
import { WaveParamsSchema } from './wave-routes.js';
import { toWaveView, type WaveView } from './wave-view.js';

/** A client this far behind is dropped rather than buffered for. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface WaveStreamDeps {
  waves: Pick<WavesRepository, 'get'>;
  pollMs: number;
  heartbeatMs: number;
  logger: Logger;
  now: () => Date;
  sse?: SseObserver | undefined;
}

export function registerWaveStream(router: Router, deps: WaveStreamDeps): void {
  router.get('/private/notes/waves/:wave_id/stream', async (ctx) => {
    const { wave_id: waveId } = parseInput(WaveParamsSchema, ctx.params, 'path');
    // Read before answering: an unknown wave or a database error is still a JSON error.
    const first = await deps.waves.get(waveId);
    if (!first) throw new AppError('NOT_FOUND', `No wave ${waveId}`, { details: { wave_id: waveId } });

    const body = new PassThrough();
    const abort = new AbortController();
    const log = deps.logger.child({ wave_id: waveId });
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
    let last = '';
    const send = (view: WaveView) => {
      const json = JSON.stringify(view);
      if (json === last) return;
      last = json;
      write(`event: wave\nid: ${++seq}\ndata: ${json}\n\n`);
    };
    const heartbeat = setInterval(() => write(': ping\n\n'), deps.heartbeatMs);
    const stop = () => abort.abort();
    ctx.res.once('close', stop);
    body.once('close', stop);
    ctx.app.once(SHUTDOWN_EVENT, stop);
    deps.sse?.streamOpened();

    const pump = async () => {
      write('retry: 3000\n\n');
      let wave = first;
      let failures = 0;
      for (;;) {
        send(toWaveView(wave, deps.now()));
        if (isTerminalWaveState(wave.state)) {
          write(`event: end\ndata: ${JSON.stringify({ state: wave.state })}\n\n`);
          return;
        }
        await delay(Math.min(deps.pollMs * 2 ** failures, 30_000), abort.signal);
        if (abort.signal.aborted) return;
        try {
          wave = (await deps.waves.get(waveId)) ?? wave;
          failures = 0;
        } catch (e) {
          // A database blip must not end the stream: log, back off, try again.
          failures = Math.min(failures + 1, 5);
          log.warn({ err: toError(e) }, 'wave stream read failed; retrying');
        }
      }
    };
    void pump()
      .catch((e: unknown) => {
        log.error({ err: toError(e) }, 'wave stream failed');
        write(
          `event: error\ndata: ${JSON.stringify({ error: 'INTERNAL', message: 'wave stream failed' })}\n\n`,
        );
      })
      .finally(() => {
        clearInterval(heartbeat);
        ctx.res.off('close', stop);
        body.off('close', stop);
        ctx.app.off(SHUTDOWN_EVENT, stop);
        abort.abort();
        body.end();
        deps.sse?.streamClosed();
      });
  });
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
