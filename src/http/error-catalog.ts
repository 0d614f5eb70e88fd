/**
 * The HTTP side of the error catalog (`src/error-catalog.ts` holds every code and its status):
 * which codes a route can answer with, and the code a bare HTTP status from Koa or third-party
 * middleware maps to.
 */
import type { ErrorCode } from '../error-catalog.js';

/** Codes a route of the HTTP API can answer with (the rest are internal to runs). */
export const HTTP_ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'CSRF_REJECTED',
  'FLAG_DISABLED',
  'CID_NOT_FOUND',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'ALREADY_MIGRATED',
  'JOB_ALREADY_RUNNING',
  'NO_RUN_TO_RESUME',
  'ROLLBACK_NOT_ALLOWED',
  'ALREADY_ROLLED_BACK',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INTERNAL',
  'CRM_UNAVAILABLE',
  'NOT_READY',
] as const satisfies readonly ErrorCode[];

/** The code a bare HTTP status maps to, for errors thrown by Koa or third-party middleware. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'VALIDATION_ERROR';
    case 401:
      return 'UNAUTHORIZED';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    default:
      return 'INTERNAL';
  }
}
