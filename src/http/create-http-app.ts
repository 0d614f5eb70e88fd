/**
 * The Koa app of the HTTP API (DESIGN.md §6): middleware order, the routers of each area with
 * their auth attached, and the routes. Owns no resources — the composition root passes every
 * dependency in and closes them; the server around it is `start-http-server.ts`.
 *
 * Order: metrics (outermost, sees the final status) → error body → path guard (400 for
 * non-canonical paths) → the routers. Auth is not decided here by path: each router carries its
 * own guards (issue #11) — `/private` Basic + CSRF, `/v1` bearer, the dashboard Basic + CSRF —
 * and all routers match case-sensitively and strictly. `/healthz`, `/readyz`, `/metrics` need none.
 */
import type { Router } from '@koa/router';
import type { Agenda } from 'agenda';
import Koa from 'koa';

import type { Config } from '../config.js';
import type { FailuresRepository } from '../db/failures-repository.js';
import type { RunsRepository } from '../db/runs-repository.js';
import { RUN_KINDS } from '../domain.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { kindsTriggeredByCid, runKindPolicy } from '../migration/run-kinds.js';
import type { RollbackDeps } from '../migration/start-rollback.js';
import type { CancelDeps, TriggerDeps } from '../migration/trigger-migration.js';
import { createBasicAuth } from './basic-auth.js';
import { createBearerAuth } from './bearer-auth.js';
import { migrateBodyPropertiesOf, routeEntriesOf } from './console/console-capabilities.js';
import { registerConsoleRoutes } from './console/console-routes.js';
import { createCsrfGuard } from './csrf-guard.js';
import { createDashboardRouter } from './dashboard-routes.js';
import { createRequestLog } from './disconnect-log.js';
import { createErrorMiddleware } from './error-middleware.js';
import { registerFailureRoutes } from './failure-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerMigrateRoutes } from './migrate-routes.js';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi.js';
import { createPathGuard } from './path-guard.js';
import { type ReadPathRouteDeps, registerReadPathRoutes } from './read-path-routes.js';
import { registerRollbackRoutes } from './rollback-routes.js';
import { registerRunRoutes } from './run-routes.js';
import type { RunStatusFeed } from './run-status-feed.js';
import { registerStatusRoutes } from './status-routes.js';
import { DEFAULT_SSE_HEARTBEAT_MS, registerStatusStream } from './status-stream.js';
import { createStrictRouter } from './strict-router.js';
import { registerTenantRoutes } from './tenant-routes.js';
import { registerWaveRoutes, type WaveRouteDeps } from './wave-routes.js';
import { registerWaveStream } from './wave-stream.js';

export type HttpAppConfig = Pick<
  Config['http'],
  'apiUsername' | 'apiPassword' | 'readApiToken' | 'maxBodyBytes'
> & {
  /** Origins besides this service's own that may send state-changing requests (ALLOWED_ORIGINS). Default none. */
  allowedOrigins?: readonly string[];
  /** SSE heartbeat comment interval. Default 15,000 ms. */
  sseHeartbeatMs?: number;
  /** Reconnect delay SSE clients are told (`retry:`). Default 3,000 ms. */
  sseRetryMs?: number;
  /** How often the tenants stream reads its CIDs' runs (STATUS_POLL_MS). Default 1,000 ms. */
  statusPollMs?: number;
  /** Longest wait for the readiness ping. Default 2,000 ms. */
  readyTimeoutMs?: number;
};

/** STATUS_POLL_MS's default, for apps built without it. */
const DEFAULT_STATUS_POLL_MS = 1_000;

export interface HttpAppDeps {
  /** Everything `triggerMigration` needs except the clock and logger, which come from here. */
  trigger: Omit<TriggerDeps, 'logger' | 'now'>;
  cancel: Omit<CancelDeps, 'now'>;
  /** The target run's notes, for the rollback preview. */
  rollbackNotes: RollbackDeps['contactNotes'];
  /** Rollout waves (#16): the repository, the commands and the stream's poll interval. */
  waves: WaveRouteDeps;
  runs: Pick<RunsRepository, 'latestForCid' | 'listForCid' | 'get' | 'listTenants' | 'latestForCids'>;
  failures: Pick<FailuresRepository, 'list' | 'stream' | 'countByReason'>;
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

/** The routers of the API, one per auth area, each with its guards attached (issue #11). */
export interface ApiRouters {
  /** `/healthz`, `/readyz`, `/metrics`: no auth. */
  public: Router;
  /** `/private/...`: Basic auth, then the CSRF guard. */
  private: Router;
  /** `/private/dash/...`: the Agenda dashboard, Basic auth and the CSRF guard. */
  dashboard: Router;
  /** `/v1/...`: the read path's bearer token. */
  read: Router;
}

export function createApiRouters(deps: HttpAppDeps): ApiRouters {
  const config = deps.config;
  const basicAuth = createBasicAuth({ username: config.apiUsername, password: config.apiPassword });
  const csrfGuard = createCsrfGuard({ allowedOrigins: config.allowedOrigins ?? [] });
  return {
    public: createPublicRouter(deps),
    private: createPrivateRouter(deps, [basicAuth, csrfGuard]),
    dashboard: createDashboardRouter({
      agenda: deps.agenda,
      guards: [basicAuth, csrfGuard],
      maxBodyBytes: config.maxBodyBytes,
    }),
    read: createReadRouter(deps),
  };
}

function createPublicRouter(deps: HttpAppDeps): Router {
  const router = createStrictRouter();
  registerHealthRoutes(router, {
    pingDatabase: deps.pingDatabase,
    ...(deps.config.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: deps.config.readyTimeoutMs }),
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  return router;
}

function createPrivateRouter(deps: HttpAppDeps, guards: Koa.Middleware[]): Router {
  const router = createStrictRouter(...guards);
  const logger = deps.logger;
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
    retryMs: deps.config.sseRetryMs,
  });
  registerRunRoutes(router, { runs: deps.runs, failures: deps.failures });
  registerWaveRoutes(router, { ...deps.waves, maxBodyBytes: deps.config.maxBodyBytes });
  registerWaveStream(router, {
    waves: deps.waves.waves,
    pollMs: deps.waves.pollMs,
    heartbeatMs: deps.config.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS,
    logger,
    now: deps.now,
    sse: deps.metrics.sse,
  });
  registerFailureRoutes(router, { failures: deps.failures, logger });
  registerTenantRoutes(router, {
    runs: deps.runs,
    logger,
    sse: deps.metrics.sse,
    heartbeatMs: deps.config.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS,
    retryMs: deps.config.sseRetryMs,
    pollMs: deps.config.statusPollMs ?? DEFAULT_STATUS_POLL_MS,
  });
  // Last: the console reads the router's routes to show only the actions that exist (#17).
  registerConsoleRoutes(router, {
    runs: deps.runs,
    failures: deps.failures,
    routes: () => routeEntriesOf(router),
    kinds: {
      triggered: kindsTriggeredByCid(),
      resumable: RUN_KINDS.filter((k) => runKindPolicy(k).resumable),
      all: RUN_KINDS,
    },
    migrateBodyProperties: migrateBodyPropertiesOf(openApi),
    logger,
  });
  return router;
}

function createReadRouter(deps: HttpAppDeps): Router {
  const router = createStrictRouter(createBearerAuth(deps.config.readApiToken));
  registerReadPathRoutes(router, deps.readPath);
  return router;
}

export function createHttpApp(deps: HttpAppDeps, routers: ApiRouters = createApiRouters(deps)): Koa {
  const app = new Koa();
  // Every open SSE stream listens for the app's `shutdown` event.
  app.setMaxListeners(0);
  // Errors are answered by the error middleware; what still escapes (a stream cut mid-answer)
  // goes to our log: a client that left at debug, anything else at error.
  app.silent = true;
  const requestLog = createRequestLog(deps.logger);
  app.on('error', requestLog.onError);

  app.use(requestLog.middleware);
  app.use(deps.metrics.httpMiddleware);
  app.use(createErrorMiddleware(deps.logger));
  app.use(createPathGuard());
  const all = [routers.public, routers.private, routers.dashboard, routers.read];
  for (const router of all) app.use(router.routes());
  // One allowedMethods is enough: it answers from every router's matches (ctx.matched).
  app.use(routers.public.allowedMethods());
  return app;
}
