/**
 * HTTP Basic auth for `/private` (DESIGN.md §6). Credentials are compared in constant time on
 * SHA-256 digests (equal length whatever the input), user and password both, so neither the
 * length nor the first wrong byte leaks through timing. Bearer tokens (IAG JWTs) are refused.
 * The caller's user name is left on `ctx.state.principal` for the routes behind it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { Middleware } from 'koa';

import { AppError } from '../errors.js';

export const BASIC_REALM = 'crm-notes-migrator';

export interface BasicAuthOptions {
  username: string;
  password: string;
  realm?: string;
}

/** What Basic auth leaves on `ctx.state` for the routes behind it. */
export interface AuthState {
  /**
   * The authenticated caller: the Basic user name (`API_USERNAME`). Set on every request that
   * passed Basic auth (all of `/private`); a run records it as who triggered it (#12).
   */
  principal: string;
}

export interface BasicCredentials {
  username: string;
  password: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** `Basic dXNlcjpwYXNz` → `{username, password}`; null for any other scheme or a malformed value. */
export function tryParseBasicAuthorization(header: string | undefined): BasicCredentials | null {
  if (!header) return null;
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i.exec(header);
  if (!m?.[1]) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Constant-time check of both fields; always compares both. */
export function credentialsMatch(given: BasicCredentials, expected: BasicCredentials): boolean {
  const userOk = timingSafeEqual(digest(given.username), digest(expected.username));
  const passOk = timingSafeEqual(digest(given.password), digest(expected.password));
  return userOk && passOk;
}

export function createBasicAuth(options: BasicAuthOptions): Middleware {
  // Config refuses defaults in production; an empty credential would be a wiring bug anywhere.
  if (!options.username || !options.password) {
    throw new AppError('CONFIG_INVALID', 'HTTP Basic auth needs a non-empty API_USERNAME and API_PASSWORD');
  }
  const expected = { username: options.username, password: options.password };
  const challenge = `Basic realm="${options.realm ?? BASIC_REALM}", charset="UTF-8"`;
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const given = tryParseBasicAuthorization(header || undefined);
    if (!given || !credentialsMatch(given, expected)) {
      ctx.set('WWW-Authenticate', challenge);
      throw new AppError('UNAUTHORIZED', unauthorizedMessage(header));
    }
    // The authenticated principal, for audit stamps (`triggered_by`).
    (ctx.state as AuthState).principal = given.username;
    await next();
  };
}

function unauthorizedMessage(header: string): string {
  if (!header) return 'HTTP Basic credentials are required (Authorization: Basic …)';
  if (/^Bearer\b/i.test(header)) {
    return 'Bearer tokens are not accepted here; use HTTP Basic credentials (Authorization: Basic …)';
  }
  return 'Wrong or malformed HTTP Basic credentials';
}
