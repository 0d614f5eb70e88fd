import { type ErrorCode, exposeForCode, statusForCode } from './error-catalog.js';

/**
 * The error types of the service. One base class carries what every boundary needs (code, HTTP
 * status, whether the message may be shown); subclasses exist only where a caller branches on them.
 */

export type { ErrorCode } from './error-catalog.js';

export interface AppErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The base error. Its HTTP status and whether its message may be shown come from the error
 * catalog, never from the thrower: a code always means the same status on the wire, and a new
 * 4xx code cannot end up hidden as a 500.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = statusForCode(code);
    this.expose = exposeForCode(code);
    this.details = options.details ?? {};
  }
}

/** Bad input from a caller (HTTP body, env, CLI argument, CRM payload). */
export class ValidationError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('VALIDATION_ERROR', message, { details, cause });
  }
}

/** The request conflicts with the state of a CID (already running, already migrated). */
export class ConflictError extends AppError {
  constructor(
    code: 'ALREADY_MIGRATED' | 'JOB_ALREADY_RUNNING' | 'ROLLBACK_NOT_ALLOWED' | 'ALREADY_ROLLED_BACK',
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, { details });
  }
}

/** The legacy CRM failed us (down, rejecting, or answering nonsense). */
export class UpstreamError extends AppError {
  constructor(
    code:
      | 'CRM_UNAVAILABLE'
      | 'CRM_EXTRACT_FAILED'
      | 'CRM_REQUEST_REJECTED'
      | 'CID_NOT_FOUND'
      | 'CRM_PAYLOAD_INVALID',
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/** Agenda must not retry this job (like bullmq's UnrecoverableError). */
export class PermanentJobError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('INTERNAL', message, options);
  }
}

/** A fenced write found that this worker no longer holds the CID lease. */
export class LeaseLostError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('LEASE_LOST', message, { details });
  }
}

/** Whatever was thrown, as an Error (non-Error throwables are wrapped, never lost). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown), { cause: thrown });
}
