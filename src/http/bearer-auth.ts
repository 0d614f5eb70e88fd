/**
 * Bearer auth for the read path `/v1/...` with its own token (READ_API_TOKEN), separate from the
 * operators' Basic credentials. When the token is unset the read path is closed: every call gets
 * 401 (fail closed, and the message says why), never an open endpoint.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { Middleware } from 'koa';

import { AppError } from '../errors.js';
import { BASIC_REALM } from './basic-auth.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function createBearerAuth(token: string | undefined): Middleware {
  const expected = token ? digest(token) : null;
  const challenge = `Bearer realm="${BASIC_REALM}"`;
  return async (ctx, next) => {
    ctx.set('WWW-Authenticate', challenge);
    if (!expected) {
      throw new AppError(
        'UNAUTHORIZED',
        'The read path is disabled: READ_API_TOKEN is not configured on this instance',
      );
    }
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(ctx.get('authorization'));
    if (!m?.[1] || !timingSafeEqual(digest(m[1]), expected)) {
      throw new AppError(
        'UNAUTHORIZED',
        m ? 'Wrong bearer token' : 'A bearer token is required (Authorization: Bearer …)',
      );
    }
    ctx.remove('WWW-Authenticate');
    await next();
  };
}
