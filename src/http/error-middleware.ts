/**
 * The one place that writes an error body: `{"error":"CODE","message":"...","details":{}}`
 * (DESIGN.md §6). `AppError`s keep their code and, when `expose` is set, their message; anything
 * else is a 500 `INTERNAL` whose message stays hidden while the stack goes to the log.
 */
import type { Middleware } from 'koa';

import { statusForCode } from '../error-catalog.js';
import { AppError, type ErrorCode, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { codeForStatus } from './error-catalog.js';

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

const HIDDEN_MESSAGE = 'Internal error; the server log has the details';

export function createErrorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body == null && ctx.respond !== false) {
        // Nothing answered: an unknown route. The router's allowedMethods() leaves 405/501
        // without a body (and sets `Allow`).
        if (ctx.status === 404) {
          throw new AppError('NOT_FOUND', `No route ${ctx.method} ${ctx.path}`, {
            details: { method: ctx.method, path: ctx.path },
          });
        }
        if (ctx.status === 405 || ctx.status === 501) {
          throw new AppError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`, {
            details: { method: ctx.method, allow: ctx.response.get('Allow') },
          });
        }
      }
    } catch (e) {
      const err = toAppError(e);
      if (ctx.headerSent || !ctx.writable) {
        // A streaming response already started: the status is gone, so end the stream loudly.
        logger.error({ err: toError(e), path: ctx.path }, 'error after the response started');
        ctx.res.destroy();
        return;
      }
      const status = statusForCode(err.code);
      if (status >= 500) {
        logger.error(
          { err: toError(e), method: ctx.method, path: ctx.path, code: err.code },
          'request failed',
        );
      } else {
        logger.debug({ code: err.code, method: ctx.method, path: ctx.path }, 'request rejected');
      }
      const body: ErrorBody = {
        error: err.code,
        message: err.expose ? err.message : HIDDEN_MESSAGE,
        details: err.expose ? err.details : {},
      };
      // Headers of a half-built answer (an SSE content type, a CSV disposition) must not survive.
      for (const name of ['content-disposition', 'cache-control', 'x-accel-buffering']) ctx.remove(name);
      ctx.status = status;
      ctx.body = body;
    }
  };
}

/**
 * Errors thrown by Koa itself or third-party middleware (`http-errors` with a `status`) keep a
 * 4xx meaning when they expose it; everything else is an unexpected 500.
 */
function toAppError(thrown: unknown): AppError {
  if (thrown instanceof AppError) return thrown;
  const err = toError(thrown);
  const status = 'status' in err ? err.status : undefined;
  const expose = 'expose' in err && err.expose === true;
  if (typeof status === 'number' && status >= 400 && status < 500 && expose) {
    const code = codeForStatus(status);
    if (code !== 'INTERNAL') return new AppError(code, err.message, { cause: err });
  }
  return new AppError('INTERNAL', err.message, { cause: err });
}
