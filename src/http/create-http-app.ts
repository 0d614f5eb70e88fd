/**
 * The Koa app of the HTTP API (DESIGN.md §6): middleware order, auth per area, and the routes.
 * Owns no resources — the composition root passes every dependency in and closes them; the
 * server around it is `start-http-server.ts`.
 *
 * Order: metrics (outermost, sees the final status) → error body → auth (`/private` Basic,
 * `/v1` bearer) → dashboard → routes. `/healthz`, `/readyz` and `/metrics` need no auth.
 */
import { Router } from '@koa/router';
import type { Agenda } from 'agenda';
import Koa from 'koa';

import type { Config } from '../config.js';
import type { FailuresRepository } from '../db/failures-repository.js';
import type { RunsRepository } from '../db/runs-repository.js';
import { AppError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { RollbackDeps } from '../migration/start-rollback.js';
import type { CancelDeps, TriggerDeps } from '../migration/trigger-migration.js';
import { createBasicAuth } from './basic-auth.js';
import { createBearerAuth } from './bearer-auth.js';
import { createDashboardMiddleware, DASHBOARD_PATH } from './dashboard.js';
import { createErrorMiddleware } from './error-middleware.js';
import { registerFailureRoutes } from './failure-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerMigrateRoutes } from './migrate-routes.js';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi.js';
import { type ReadPathRouteDeps, registerReadPathRoutes } from './read-path-routes.js';
import { registerRollbackRoutes } from './rollback-routes.js';
import { registerRunRoutes } from './run-routes.js';
import type { RunStatusFeed } from './run-status-feed.js';
import { registerStatusRoutes } from './status-routes.js';
import { DEFAULT_SSE_HEARTBEAT_MS, registerStatusStream } from './status-stream.js';

export type HttpAppConfig = Pick<
  Config['http'],
  'apiUsername' | 'apiPassword' | 'readApiToken' | 'maxBodyBytes'
> & {
  /** SSE heartbeat comment interval. Default 15,000 ms. */
  sseHeartbeatMs?: number;
  /** Longest wait for the readiness ping. Default 2,000 ms. */
  readyTimeoutMs?: number;
};

export interface HttpAppDeps {
  /** Everything `triggerMigration` needs except the clock and logger, which come from here. */
  trigger: Omit<TriggerDeps, 'logger' | 'now'>;
  cancel: Omit<CancelDeps, 'now'>;
  /** The target run's notes, for the rollback preview. */
  rollbackNotes: RollbackDeps['contactNotes'];
  runs: Pick<RunsRepository, 'latestForCid' | 'listForCid'>;
  failures: Pick<FailuresRepository, 'list' | 'stream'>;
  readPath: ReadPathRouteDeps;
  /** Live status for SSE (`createRunStatusFeed`). */
  statusSource: RunStatusFeed;
  metrics: Pick<Metrics, 'registry' | 'httpMiddleware' | 'sse'>;
  /** Readiness: resolves when MongoDB answers, e.g. `() => db.command({ ping: 1 })`. */
  pingDatabase: () => Promise<unknown>;
  logger: Logger;
  config: HttpAppConfig;
  /** Mounts the Agenda dashboard at `/private/dash` when given. */
  agenda?: Agenda | undefined;
  now: () => Date;
}

/** The routes of the API, on one router (the OpenAPI test reads its `stack`). */
export function createApiRouter(deps: HttpAppDeps): Router {
  const router = new Router();
  const logger = deps.logger;
  registerHealthRoutes(router, {
    pingDatabase: deps.pingDatabase,
    ...(deps.config.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: deps.config.readyTimeoutMs }),
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  const openApi = buildOpenApiDocument();
  router.get(OPENAPI_PATH, (ctx) => {
    ctx.body = openApi;
  });
  registerMigrateRoutes(router, {
    trigger: { ...deps.trigger, logger, now: deps.now },
    cancel: { ...deps.cancel, now: deps.now },
    maxBodyBytes: deps.config.maxBodyBytes,
  });
  registerRollbackRoutes(router, {
    rollback: { trigger: { ...deps.trigger, logger, now: deps.now }, contactNotes: deps.rollbackNotes },
    maxBodyBytes: deps.config.maxBodyBytes,
  });
  registerStatusRoutes(router, { runs: deps.runs });
  registerStatusStream(router, {
    feed: deps.statusSource,
    logger,
    sse: deps.metrics.sse,
    heartbeatMs: deps.config.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS,
  });
  registerRunRoutes(router, { runs: deps.runs });
  registerFailureRoutes(router, { failures: deps.failures, logger });
  registerReadPathRoutes(router, deps.readPath);
  return router;
}

export function createHttpApp(deps: HttpAppDeps): Koa {
  const app = new Koa();
  // Every open SSE stream listens for the app's `shutdown` event.
  app.setMaxListeners(0);
  // Errors are answered by the error middleware; anything that still escapes goes to our log.
  app.silent = true;
  app.on('error', (e: unknown) => deps.logger.error({ err: toError(e) }, 'koa error'));

  const basicAuth = createBasicAuth({ username: deps.config.apiUsername, password: deps.config.apiPassword });
  const bearerAuth = createBearerAuth(deps.config.readApiToken);
  const router = createApiRouter(deps);

  app.use(deps.metrics.httpMiddleware);
  app.use(createErrorMiddleware(deps.logger));
  app.use(async (ctx, next) => {
    if (ctx.path === '/private' || ctx.path.startsWith('/private/')) await basicAuth(ctx, next);
    else if (ctx.path.startsWith('/v1/')) await bearerAuth(ctx, next);
    else await next();
  });
  if (deps.agenda) app.use(createDashboardMiddleware(deps.agenda));
  else {
    app.use(async (ctx, next) => {
      if (ctx.path !== DASHBOARD_PATH && !ctx.path.startsWith(`${DASHBOARD_PATH}/`)) {
        await next();
        return;
      }
      throw new AppError('NOT_FOUND', 'The job dashboard is not enabled in this process', { status: 404 });
    });
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
