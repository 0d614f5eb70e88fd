/**
 * The error types of the service. One base class carries what every boundary needs (code, HTTP
 * status, whether the message may be shown); subclasses exist only where a caller branches on them.
 */

export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'FLAG_DISABLED',
  'CID_NOT_FOUND',
  'ALREADY_MIGRATED',
  'JOB_ALREADY_RUNNING',
  'NO_RUN_TO_RESUME',
  'ROLLBACK_NOT_ALLOWED',
  'ALREADY_ROLLED_BACK',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'CRM_UNAVAILABLE',
  'CRM_EXTRACT_FAILED',
  'CRM_REQUEST_REJECTED',
  'CRM_PAYLOAD_INVALID',
  'CONFIG_INVALID',
  'LEASE_LOST',
  'NOTE_TOO_LONG',
  'NOT_READY',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  status?: number;
  /** May the message be shown to an API client? Defaults to true for status < 500. */
  expose?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details ?? {};
  }
}

/** Bad input from a caller (HTTP body, env, CLI argument, CRM payload). */
export class ValidationError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('VALIDATION_ERROR', message, { status: 400, details, cause });
  }
}

/** The request conflicts with the state of a CID (already running, already migrated). */
export class ConflictError extends AppError {
  constructor(
    code: 'ALREADY_MIGRATED' | 'JOB_ALREADY_RUNNING' | 'ROLLBACK_NOT_ALLOWED' | 'ALREADY_ROLLED_BACK',
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, { status: 409, details });
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
    options: Omit<AppErrorOptions, 'expose'> = {},
  ) {
    super(code, message, { status: code === 'CID_NOT_FOUND' ? 404 : 502, expose: true, ...options });
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
    super('LEASE_LOST', message, { status: 409, details });
  }
}

/** Whatever was thrown, as an Error (non-Error throwables are wrapped, never lost). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown), { cause: thrown });
}
