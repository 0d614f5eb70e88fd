/**
 * The Agenda dashboard (agendash 8.2.4) under `/private/dash`, behind the same Basic auth as the
 * rest of `/private` (it has none of its own: AGENDA6-NOTES.md §4). Its middleware is built
 * asynchronously by agendash, so the sub-app is assembled on the first request and mounted with
 * koa-mount; its body parser stays scoped to it. Requeue/Retry bypass the trigger's guards; the
 * worker's CID lease and run checks make them harmless (issue #7).
 */
import type { Agenda } from 'agenda';
import Koa, { type Middleware } from 'koa';
import mount from 'koa-mount';

export const DASHBOARD_PATH = '/private/dash';

export function createDashboardMiddleware(agenda: Agenda): Middleware {
  let mounted: Promise<Middleware> | undefined;
  const build = async (): Promise<Middleware> => {
    // Loaded on first use: agendash pulls in express and its UI only where the dashboard is used.
    const { createKoaMiddlewareAsync } = await import('agendash');
    const dash = new Koa();
    for (const mw of await createKoaMiddlewareAsync(agenda)) dash.use(mw);
    return mount(DASHBOARD_PATH, dash);
  };
  return async (ctx, next) => {
    if (ctx.path !== DASHBOARD_PATH && !ctx.path.startsWith(`${DASHBOARD_PATH}/`)) {
      await next();
      return;
    }
    // The UI loads `./assets` and `./api` relative to the page: it must be served from `/dash/`.
    if (ctx.path === DASHBOARD_PATH) {
      ctx.redirect(`${DASHBOARD_PATH}/`);
      return;
    }
    mounted ??= build().catch((e: unknown) => {
      mounted = undefined;
      throw e;
    });
    const mw = await mounted;
    await mw(ctx, next);
  };
}
