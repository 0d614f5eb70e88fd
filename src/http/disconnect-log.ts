/**
 * What happens to errors that escape the error middleware (a streamed answer cut mid-way): a
 * client that went away — a closed SSE tab, a dropped socket — is not our fault and is logged at
 * `debug` with the route and how long the request lasted; anything else stays an `error` (#11).
 */
import type { Context, Middleware } from 'koa';

import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { routeOf } from './route-label.js';

/** Error codes Node gives a write or pipe to a peer that is gone. */
const CLIENT_GONE_CODES: ReadonlySet<string> = new Set([
  'ERR_STREAM_PREMATURE_CLOSE',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
]);

export interface RequestLog {
  /** Records when each request started; mount it first. */
  middleware: Middleware;
  /** The app's `error` listener. */
  onError: (e: unknown, ctx?: Context) => void;
}

/** Did the client leave before the answer was complete? */
export function isClientDisconnect(err: Error, ctx: Context | undefined): boolean {
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const gone = (code !== undefined && CLIENT_GONE_CODES.has(code)) || err.message === 'aborted';
  return gone && (ctx === undefined || !ctx.res.writableFinished);
}

export function createRequestLog(logger: Logger): RequestLog {
  const startedAt = new WeakMap<Context, number>();
  return {
    middleware: async (ctx, next) => {
      startedAt.set(ctx, performance.now());
      await next();
    },
    onError: (e, ctx) => {
      const err = toError(e);
      const started = ctx === undefined ? undefined : startedAt.get(ctx);
      const fields = {
        method: ctx?.method,
        route: ctx === undefined ? undefined : routeOf(ctx),
        duration_ms: started === undefined ? undefined : Math.round(performance.now() - started),
      };
      if (isClientDisconnect(err, ctx)) {
        logger.debug({ ...fields, code: (err as { code?: unknown }).code }, 'client disconnected');
      } else {
        logger.error({ ...fields, err }, 'koa error');
      }
    },
  };
}
