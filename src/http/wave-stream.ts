/**
 * `GET /private/notes/waves/:wave_id/stream` (#16): Server-Sent Events with the wave view now and
 * whenever it changes (`event: wave`, read every `pollMs`: the scheduler rewrites the wave's fleet
 * sample on each tick anyway, so a change stream would wake as often), `: ping` heartbeats, and
 * `event: end` once the wave has ended. A client that leaves, or a server shutdown, ends it; the
 * headers, `retry:`, heartbeats and slow-client drop are the shared channel's (sse-channel.ts).
 */
import type { Router } from '@koa/router';

import { abortableDelay } from '../abortable-delay.js';
import type { WavesRepository } from '../db/waves-repository.js';
import { isTerminalWaveState } from '../domain.js';
import { AppError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SseObserver } from '../metrics.js';
import { parseInput } from './parse-input.js';
import { runSseChannel } from './sse-channel.js';
import { WaveParamsSchema } from './wave-routes.js';
import { toWaveView } from './wave-view.js';

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

    const abort = new AbortController();
    const log = deps.logger.child({ wave_id: waveId });
    runSseChannel(
      ctx,
      { logger: log, sse: deps.sse, heartbeatMs: deps.heartbeatMs, abort },
      async (channel) => {
        let seq = 0;
        let last = '';
        let wave = first;
        let failures = 0;
        for (;;) {
          const view = toWaveView(wave, deps.now());
          const json = JSON.stringify(view);
          if (json !== last) {
            last = json;
            channel.send('wave', view, String(++seq));
          }
          if (isTerminalWaveState(wave.state)) {
            channel.send('end', { state: wave.state });
            return;
          }
          await abortableDelay(Math.min(deps.pollMs * 2 ** failures, 30_000), channel.signal);
          if (channel.signal.aborted) return;
          try {
            wave = (await deps.waves.get(waveId)) ?? wave;
            failures = 0;
          } catch (e) {
            // A database blip must not end the stream: log, back off, try again.
            failures = Math.min(failures + 1, 5);
            log.warn({ err: toError(e) }, 'wave stream read failed; retrying');
          }
        }
      },
      () => Promise.resolve(),
    );
  });
}
