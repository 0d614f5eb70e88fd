/**
 * The route a request matched, as a bounded label for metrics and logs: the route template
 * (`/v1/contacts/:contact_id/notes`), never the raw path, which carries ids.
 */
import type { Context } from 'koa';

/** The matched route template (set by @koa/router before any guard runs), or `unmatched`. */
export function routeOf(ctx: Context): string {
  const matched: unknown = Reflect.get(ctx, '_matchedRoute');
  return typeof matched === 'string' ? matched : 'unmatched';
}
