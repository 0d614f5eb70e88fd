/**
 * The one map from error code to HTTP status (STYLE.md "Errors", DESIGN.md §6). The error
 * middleware answers with this status whatever the thrown error carried, so a code always means
 * the same status on the wire. Descriptions feed the OpenAPI document and docs/api.md.
 */
import type { ErrorCode } from '../errors.js';

export interface CatalogEntry {
  status: number;
  description: string;
}

export const ERROR_CATALOG = {
  VALIDATION_ERROR: {
    status: 400,
    description: 'The body, query or path parameters are invalid; `details.issues` lists each problem.',
  },
  UNAUTHORIZED: {
    status: 401,
    description:
      'No credentials, wrong credentials, or a bearer token on a Basic-auth route (`WWW-Authenticate` names the scheme).',
  },
  FLAG_DISABLED: {
    status: 403,
    description: 'The feature flag `crm_notes_migration_enabled` is off for this CID; nothing was enqueued.',
  },
  CID_NOT_FOUND: { status: 404, description: 'The legacy CRM does not know this organisation (CID).' },
  NOT_FOUND: { status: 404, description: 'No such route, contact, or run in progress.' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    description: 'The route exists but not with this method (`Allow` lists them).',
  },
  ALREADY_MIGRATED: {
    status: 409,
    description:
      'The latest note-changing run (migrate, repair, rollback) of this CID is a migrate or repair run that ended `completed_success`; a new migrate run is refused (a rollback of it reopens the CID).',
  },
  JOB_ALREADY_RUNNING: {
    status: 409,
    description: 'A run of this CID is queued or running (its lock is live).',
  },
  NO_RUN_TO_RESUME: {
    status: 409,
    description: '`mode: "resume"` but no halted, failed, cancelled or incomplete run exists.',
  },
  ROLLBACK_NOT_ALLOWED: {
    status: 409,
    description:
      'Only a finished (terminal) `migrate` or `repair` run can be rolled back; `details.reason` says why this one cannot.',
  },
  ALREADY_ROLLED_BACK: {
    status: 409,
    description:
      'The run was already rolled back (`details.rolled_back_by` names the rollback run); nothing was done.',
  },
  LEASE_LOST: { status: 409, description: 'A worker lost its CID lease (internal; never sent by a route).' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The request body is larger than MAX_BODY_BYTES.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The request body is not `application/json` (UTF-8).' },
  NOTE_TOO_LONG: {
    status: 422,
    description: 'A note is over 10,000 characters after sanitizing (internal; a failure record).',
  },
  INTERNAL: {
    status: 500,
    description: 'An unexpected error; the message is hidden and the stack is logged.',
  },
  CONFIG_INVALID: { status: 500, description: 'The service is misconfigured (internal).' },
  CRM_UNAVAILABLE: { status: 502, description: 'The legacy CRM could not be reached or kept failing.' },
  CRM_EXTRACT_FAILED: { status: 502, description: 'The legacy CRM failed while a run read its pages.' },
  CRM_REQUEST_REJECTED: { status: 502, description: 'The legacy CRM rejected our request (auth, 4xx).' },
  CRM_PAYLOAD_INVALID: { status: 502, description: 'The legacy CRM answered with an invalid payload.' },
  NOT_READY: {
    status: 503,
    description: 'A dependency (MongoDB) does not answer; the instance is not ready.',
  },
} as const satisfies Record<ErrorCode, CatalogEntry>;

/** Codes a route of the HTTP API can answer with (the rest are internal to runs). */
export const HTTP_ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
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

export function statusForCode(code: ErrorCode): number {
  return ERROR_CATALOG[code].status;
}

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
