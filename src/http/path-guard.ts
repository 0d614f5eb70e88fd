/**
 * The front door for request paths (issue #11): a path with malformed percent-encoding, a dot
 * segment (`.`/`..`, raw or encoded) or an encoded separator or control character is answered
 * 400 `VALIDATION_ERROR` before any router, so no route, parameter or file lookup ever sees one.
 * It judges only whether the path is well-formed; which route (and which auth) applies is the
 * routers' business.
 */
import type { Middleware } from 'koa';

import { ValidationError } from '../errors.js';

/** Characters that must never appear in a decoded segment: separators, NUL and controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_IN_SEGMENT = /[/\\\u0000-\u001f\u007f]/;

/** Why the path is refused, or null when it is well-formed. */
export function tryFindPathProblem(path: string): string | null {
  if (path.includes('\\')) return 'a backslash';
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return 'malformed percent-encoding';
    }
    if (decoded === '.' || decoded === '..') return `a "${decoded}" segment`;
    if (FORBIDDEN_IN_SEGMENT.test(decoded)) return 'an encoded separator or control character';
  }
  return null;
}

export function createPathGuard(): Middleware {
  return async (ctx, next) => {
    const problem = tryFindPathProblem(ctx.path);
    if (problem !== null) {
      throw new ValidationError(`Request path is not canonical: it contains ${problem}`, {
        location: 'path',
        issues: [{ code: 'custom', path: ['path'], message: `contains ${problem}` }],
      });
    }
    await next();
  };
}
