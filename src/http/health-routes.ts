/**
 * `GET /healthz` (liveness: the process answers; touches nothing) and `GET /readyz` (readiness:
 * MongoDB answers a ping within `readyTimeoutMs`, else 503 `NOT_READY`). No auth: orchestrators
 * call them, and they reveal nothing but up/down.
 */
import type { Router } from '@koa/router';

import { AppError, toError } from '../errors.js';

export interface HealthRouteDeps {
  /** Resolves when MongoDB answers (e.g. `db.command({ping: 1})`). */
  pingDatabase: () => Promise<unknown>;
  /** Longest wait for the ping. Default 2,000 ms. */
  readyTimeoutMs?: number;
}

export function registerHealthRoutes(router: Router, deps: HealthRouteDeps): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const timeoutMs = deps.readyTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.pingDatabase(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      // The cause (host names, driver text) goes to the log only: this route has no auth.
      throw new AppError('NOT_READY', 'MongoDB did not answer a ping', {
        details: { mongo: 'down' },
        cause: toError(e),
      });
    } finally {
      clearTimeout(timer);
    }
    ctx.body = { status: 'ready', checks: { mongo: 'up' } };
  });
}
