import { describe, expect, it } from 'vitest';

import { ERROR_CATALOG, ERROR_CODES, type ErrorCode, statusForCode } from '../../src/error-catalog.js';
import {
  AppError,
  ConflictError,
  LeaseLostError,
  PermanentJobError,
  UpstreamError,
  ValidationError,
} from '../../src/errors.js';
import { codeForStatus, HTTP_ERROR_CODES } from '../../src/http/error-catalog.js';

describe('error catalog', () => {
  it('maps every error code to one HTTP status', () => {
    expect(Object.keys(ERROR_CATALOG).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(statusForCode(code)).toBeGreaterThanOrEqual(400);
  });

  it('uses the statuses of DESIGN.md §6 for the API codes', () => {
    expect(Object.fromEntries(HTTP_ERROR_CODES.map((c) => [c, statusForCode(c)]))).toEqual({
      VALIDATION_ERROR: 400,
      UNAUTHORIZED: 401,
      CSRF_REJECTED: 403,
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

  it('is the only source of an error’s status and exposure: every code, whoever throws it (#12)', () => {
    for (const code of ERROR_CODES) {
      const err = new AppError(code, 'x');
      expect([code, err.status]).toEqual([code, ERROR_CATALOG[code].status]);
      expect(err.expose).toBe(code.startsWith('CRM_') || err.status < 500);
    }
    // Subclasses carry their codes' statuses too: nothing is hand-typed anywhere.
    expect(new ValidationError('bad').status).toBe(400);
    expect(new ConflictError('JOB_ALREADY_RUNNING', 'busy').status).toBe(409);
    expect(new UpstreamError('CID_NOT_FOUND', 'unknown org').status).toBe(404);
    expect(new UpstreamError('CRM_UNAVAILABLE', 'down')).toMatchObject({ status: 502, expose: true });
    expect(new LeaseLostError('lost').status).toBe(409);
    expect(new PermanentJobError('bad job')).toMatchObject({ status: 500, expose: false });
  });

  it('has no code without a status: the codes are the catalog’s keys', () => {
    const codes: readonly ErrorCode[] = ERROR_CODES;
    expect(codes).toEqual(Object.keys(ERROR_CATALOG));
    expect(codes.every((c) => Number.isInteger(ERROR_CATALOG[c].status))).toBe(true);
  });
});
