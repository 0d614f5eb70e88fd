/**
 * The one way this service builds a router (issue #11): case-sensitive, strict matching (so
 * `/PRIVATE/x`, `/private/x/` and `/private//x` match nothing), with the area's guards (auth,
 * CSRF) registered first, so they run before every route the router will ever hold.
 */
import { Router } from '@koa/router';
import type { Middleware } from 'koa';

/**
 * A router whose every route runs `guards` first. @koa/router runs a router's `use()` layers only
 * when one of its routes matched, in stack order: registered here, before any route exists, the
 * guards are always the first layers. A path-less layer matches every path, so no spelling of a
 * route can reach its handler without them.
 */
export function createStrictRouter(...guards: Middleware[]): Router {
  const router = new Router({ sensitive: true, strict: true });
  if (guards.length > 0) router.use(...guards);
  return router;
}
