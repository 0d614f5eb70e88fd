import { describe, expect, it } from 'vitest';

import { ERROR_CODES } from '../../../src/errors.js';
import {
  codeForStatus,
  ERROR_CATALOG,
  HTTP_ERROR_CODES,
  statusForCode,
} from '../../../src/http/error-catalog.js';

describe('error catalog', () => {
  it('maps every error code to one HTTP status', () => {
    expect(Object.keys(ERROR_CATALOG).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(statusForCode(code)).toBeGreaterThanOrEqual(400);
  });

  it('uses the statuses of DESIGN.md §6 for the API codes', () => {
    expect(Object.fromEntries(HTTP_ERROR_CODES.map((c) => [c, statusForCode(c)]))).toEqual({
      VALIDATION_ERROR: 400,
      UNAUTHORIZED: 401,
      FLAG_DISABLED: 403,
      CID_NOT_FOUND: 404,
      NOT_FOUND: 404,
      METHOD_NOT_ALLOWED: 405,
      ALREADY_MIGRATED: 409,
      JOB_ALREADY_RUNNING: 409,
      NO_RUN_TO_RESUME: 409,
      ROLLBACK_NOT_ALLOWED: 409,
      ALREADY_ROLLED_BACK: 409,
      PAYLOAD_TOO_LARGE: 413,
      UNSUPPORTED_MEDIA_TYPE: 415,
      INTERNAL: 500,
      CRM_UNAVAILABLE: 502,
      NOT_READY: 503,
    });
  });

  it('turns bare statuses of third-party errors into codes, and anything unknown into INTERNAL', () => {
    expect(codeForStatus(413)).toBe('PAYLOAD_TOO_LARGE');
    expect(codeForStatus(400)).toBe('VALIDATION_ERROR');
    expect(codeForStatus(418)).toBe('INTERNAL');
  });
});
