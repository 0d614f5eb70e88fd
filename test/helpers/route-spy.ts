/**
 * Reads the routes of a Koa app from its own routers and puts a spy on every handler, so a test
 * can enumerate every registered route (new ones included) and tell whether a handler ran.
 */
import type { Router } from '@koa/router';
import type Koa from 'koa';

export interface RouteUnderTest {
  method: string;
  /** The template, e.g. `/v1/contacts/:contact_id/notes`. */
  template: string;
  /** The template with its parameters filled in (`c-1`). */
  path: string;
}

export interface HandlerCall {
  method: string;
  template: string;
  /** The raw request path that reached the handler. */
  requested: string;
  authorization: string;
}

export interface RouteSpy {
  routes: RouteUnderTest[];
  calls: HandlerCall[];
}

/** The routers mounted on an app: @koa/router marks its dispatch middleware with `.router`. */
export function routersOf(app: Koa): Router[] {
  return app.middleware
    .map((mw) => Reflect.get(mw, 'router') as Router | undefined)
    .filter((r): r is Router => r !== undefined);
}

/** Wraps the handler (the last function) of every route of `app`; fills `spy` as calls arrive. */
export function spyOnHandlers(app: Koa, spy: RouteSpy): void {
  for (const router of routersOf(app)) {
    for (const layer of router.stack) {
      if (layer.methods.length === 0) continue;
      const template = String(layer.path);
      const handler = layer.stack.at(-1)!;
      layer.stack[layer.stack.length - 1] = (ctx, next) => {
        spy.calls.push({
          method: ctx.method,
          template,
          requested: ctx.path,
          authorization: ctx.get('authorization'),
        });
        return handler(ctx, next);
      };
      for (const method of layer.methods) {
        spy.routes.push({ method, template, path: template.replace(/:[a-z_]+/g, 'c-1') });
      }
    }
  }
}

/** A spy with nothing recorded yet. */
export function createRouteSpy(): RouteSpy {
  return { routes: [], calls: [] };
}
