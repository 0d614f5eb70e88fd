/**
 * The Agenda dashboard (agendash 8.2.4's UI and controller) under `/private/dash/`, on our own
 * strict router behind Basic auth and the CSRF guard (issue #11). Hand-written instead of
 * agendash's Koa adapter, which routes case-insensitively, serves its folder through koa-static
 * and offers a "create job" action that enqueues any job name with any data: here every route is
 * ours (enumerable, strict, JSON bodies through `readJsonBody`), the UI's files are served from a
 * fixed list, and *create* is refused. Requeue/Retry stay harmless: the worker's CID lease and run
 * checks decide (issue #7).
 */
import { readdir, readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

import type { Router } from '@koa/router';
import type { Agenda } from 'agenda';
import type { AgendashController } from 'agendash';
import type { Middleware } from 'koa';
import { z } from 'zod';

import { AppError } from '../errors.js';
import { readJsonBody } from './json-body.js';
import { optionalPatternSchema, parseInput } from './parse-input.js';
import { createStrictRouter } from './strict-router.js';

export const DASHBOARD_PATH = '/private/dash';

const JOB_ID_PATTERN = /^[0-9a-f]{24}$/;
const JobIdsBodySchema = z.strictObject({
  jobIds: z.array(z.string().regex(JOB_ID_PATTERN, 'job ids are 24 lowercase hex digits')).max(1000),
});

const text = (name: string) => optionalPatternSchema(name, /^[\s\S]{0,200}$/, 'at most 200 characters');
const count = (name: string) =>
  optionalPatternSchema(name, /^(0|[1-9][0-9]{0,5})$/, 'an integer from 0 to 999999');
/** The query the UI's job list sends (`job, state, q, property, isObjectId, skip, limit`). */
const JobsQuerySchema = z.strictObject({
  job: text('job'),
  state: text('state'),
  q: text('q'),
  property: text('property'),
  isObjectId: optionalPatternSchema('isObjectId', /^(true|false)$/, 'true or false'),
  skip: count('skip'),
  limit: count('limit'),
});
const StatsQuerySchema = z.strictObject({
  fullDetails: optionalPatternSchema('fullDetails', /^(true|false)$/, 'true or false'),
});

const HTML_TYPE = 'text/html; charset=utf-8';
const ASSET_TYPES: ReadonlyMap<string, string> = new Map([
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
]);

interface UiFiles {
  index: Buffer;
  /** File name in `public/assets/` → its bytes and content type. Nothing else is ever served. */
  assets: ReadonlyMap<string, { bytes: Buffer; type: string }>;
}

export interface DashboardRouteDeps {
  /** Without an Agenda the dashboard pages answer 404. */
  agenda?: Agenda | undefined;
  /** Basic auth, the CSRF guard: run before every dashboard route. */
  guards: Middleware[];
  maxBodyBytes: number;
}

export function createDashboardRouter(deps: DashboardRouteDeps): Router {
  const router = createStrictRouter(...deps.guards);
  const agenda = deps.agenda;
  if (!agenda) {
    router.get([DASHBOARD_PATH, `${DASHBOARD_PATH}/`], () => {
      throw new AppError('NOT_FOUND', 'The job dashboard is not enabled in this process');
    });
    return router;
  }
  // Loaded on first use: agendash's entry point pulls in express.
  const agendash = once(() => import('agendash'));
  const controller = once(async () => new (await agendash()).AgendashController(agenda));
  const ui = once(loadUiFiles);
  router.use(async (ctx, next) => {
    ctx.set('Content-Security-Policy', (await agendash()).cspHeader);
    await next();
  });

  // The UI loads `./assets` and `./api` relative to the page: it must be served from `/dash/`.
  router.get(DASHBOARD_PATH, (ctx) => ctx.redirect(`${DASHBOARD_PATH}/`));
  router.get(`${DASHBOARD_PATH}/`, async (ctx) => {
    ctx.type = HTML_TYPE;
    ctx.body = (await ui()).index;
  });
  router.get(`${DASHBOARD_PATH}/assets/:file`, async (ctx) => {
    const asset = (await ui()).assets.get(ctx.params.file ?? '');
    if (!asset) throw new AppError('NOT_FOUND', 'No such dashboard asset');
    ctx.type = asset.type;
    ctx.body = asset.bytes;
  });
  registerDashboardApi(router, controller, deps.maxBodyBytes);
  return router;
}

function registerDashboardApi(
  router: Router,
  controller: () => Promise<AgendashController>,
  maxBodyBytes: number,
): void {
  const api = `${DASHBOARD_PATH}/api`;
  router.get(api, async (ctx) => {
    const q = parseInput(JobsQuerySchema, ctx.query, 'query');
    ctx.body = await (
      await controller()
    ).getJobs({
      name: q.job,
      state: q.state,
      search: q.q,
      property: q.property,
      isObjectId: q.isObjectId,
      skip: q.skip === undefined ? 0 : Number(q.skip),
      // 0 would divide agendash's page count by zero.
      limit: q.limit === undefined || q.limit === '0' ? 50 : Number(q.limit),
    });
  });
  router.get(`${api}/stats`, async (ctx) => {
    const q = parseInput(StatsQuerySchema, ctx.query, 'query');
    ctx.body = await (await controller()).getStats(q.fullDetails === 'true');
  });
  router.get(`${api}/events`, async (ctx) => {
    const c = await controller();
    if (!c.hasStateNotifications()) {
      throw new AppError(
        'NOT_FOUND',
        'Live job events need a notification channel with state subscriptions; this process has none',
      );
    }
    const stream = new PassThrough();
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache, no-transform');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
    stream.write('event: connected\ndata: {"connected":true}\n\n');
    const unsubscribe = c.createStateStream((n) => void stream.write(`data: ${JSON.stringify(n)}\n\n`));
    ctx.res.once('close', () => {
      unsubscribe();
      stream.end();
    });
  });

  const actions = {
    requeue: (c: AgendashController, ids: string[]) => c.requeueJobs(ids),
    retry: (c: AgendashController, ids: string[]) => c.retryJobs(ids),
    delete: (c: AgendashController, ids: string[]) => c.deleteJobs(ids),
    pause: (c: AgendashController, ids: string[]) => c.pauseJobs(ids),
    resume: (c: AgendashController, ids: string[]) => c.resumeJobs(ids),
  } as const;
  for (const [name, run] of Object.entries(actions)) {
    router.post(`${api}/jobs/${name}`, async (ctx) => {
      const raw = await readJsonBody(ctx, { maxBodyBytes });
      const { jobIds } = parseInput(JobIdsBodySchema, raw, 'body');
      ctx.body = await run(await controller(), jobIds);
    });
  }
  // The UI's "create job" would enqueue any job name with any data, past every trigger guard.
  router.post(`${api}/jobs/create`, () => {
    throw new AppError(
      'NOT_FOUND',
      'Creating jobs from the dashboard is disabled; start a migration with POST /private/notes/migrate',
    );
  });
}

async function loadUiFiles(): Promise<UiFiles> {
  const publicDir = fileURLToPath(new URL('../public/', import.meta.resolve('agendash')));
  const assets = new Map<string, { bytes: Buffer; type: string }>();
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- agendash's own package folder, resolved by Node; no request input
  for (const name of await readdir(`${publicDir}assets`)) {
    const type = ASSET_TYPES.get(name.slice(name.lastIndexOf('.')));
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- a name readdir just listed in that folder, read once at start; requests pick from this map by exact name
    if (type) assets.set(name, { bytes: await readFile(`${publicDir}assets/${name}`), type });
  }
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- agendash's own index.html, a fixed name in its package folder
  return { index: await readFile(`${publicDir}index.html`), assets };
}

/** Runs `load` once and shares its promise; a failure is forgotten so the next call retries. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().catch((e: unknown) => {
      pending = undefined;
      throw e;
    }));
}
