/**
 * Cross-site request forgery guard for `/private` (issue #11). A browser that has cached the
 * Basic credentials sends them with any request a foreign page makes, so every state-changing
 * request must prove it comes from our own pages: it is refused (403 `CSRF_REJECTED`) when
 * `Sec-Fetch-Site` says `cross-site`, or when an `Origin` header names anything but this service
 * (or an `ALLOWED_ORIGINS` entry). Requests with neither header (curl, the CLI, other services)
 * carry no ambient browser credentials and pass.
 */
import type { Context, Middleware } from 'koa';

import { AppError } from '../errors.js';

/** Methods that change nothing (RFC 9110 §9.2.1); every other method is checked. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfGuardOptions {
  /** Further origins allowed to send state-changing requests (`scheme://host[:port]`, normalised). */
  allowedOrigins: readonly string[];
}

export function createCsrfGuard(options: CsrfGuardOptions): Middleware {
  const allowed = new Set(options.allowedOrigins.map((o) => tryNormalizeOrigin(o)).filter((o) => o !== null));
  return async (ctx, next) => {
    if (!SAFE_METHODS.has(ctx.method)) assertSameOrigin(ctx, allowed);
    await next();
  };
}

function assertSameOrigin(ctx: Context, allowed: ReadonlySet<string>): void {
  const fetchSite = ctx.get('sec-fetch-site').trim().toLowerCase();
  if (fetchSite === 'cross-site') {
    throw rejected(ctx, 'Sec-Fetch-Site is cross-site', { sec_fetch_site: fetchSite });
  }
  const origin = ctx.get('origin');
  if (origin === '') return;
  const normalized = tryNormalizeOrigin(origin);
  // Our own origin from the socket's scheme and the Host header (Koa 3's `ctx.origin` is the
  // request's Origin header, not this). A browser always sends the Host it connected to.
  const own = tryNormalizeOrigin(`${ctx.protocol}://${ctx.host}`);
  if (normalized !== null && (normalized === own || allowed.has(normalized))) return;
  throw rejected(ctx, `Origin ${JSON.stringify(origin.slice(0, 200))} is not this service`, {
    origin: origin.slice(0, 200),
  });
}

function rejected(ctx: Context, why: string, details: Record<string, unknown>): AppError {
  return new AppError(
    'CSRF_REJECTED',
    `${ctx.method} refused: ${why}. State-changing requests must come from this service's own pages or an ALLOWED_ORIGINS entry`,
    { details },
  );
}

/**
 * `https://Example.COM:443` → `https://example.com`, as browsers serialise an `Origin`; null for
 * anything that is not an http(s) origin (including the opaque `null` origin of sandboxed frames).
 */
export function tryNormalizeOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.origin;
}
