/**
 * Every error code of the service with its HTTP status, in one place (STYLE.md "Errors", DESIGN.md
 * §6): `AppError` takes its status (and whether its message may be shown) from here, the error
 * middleware answers with it, the OpenAPI document and docs/api.md describe it. A code cannot
 * exist without a status: the codes are this table's keys.
 */

export interface CatalogEntry {
  status: number;
  description: string;
  /** May the message be shown to an API client? Default: for a status below 500. */
  expose?: boolean;
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
  CSRF_REJECTED: {
    status: 403,
    description:
      'A state-changing request from another site: `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this service nor in ALLOWED_ORIGINS. Nothing ran.',
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
  CRM_UNAVAILABLE: {
    status: 502,
    expose: true,
    description: 'The legacy CRM could not be reached or kept failing.',
  },
  CRM_EXTRACT_FAILED: {
    status: 502,
    expose: true,
    description: 'The legacy CRM failed while a run read its pages.',
  },
  CRM_REQUEST_REJECTED: {
    status: 502,
    expose: true,
    description: 'The legacy CRM rejected our request (auth, 4xx).',
  },
  CRM_PAYLOAD_INVALID: {
    status: 502,
    expose: true,
    description: 'The legacy CRM answered with an invalid payload.',
  },
  NOT_READY: {
    status: 503,
    description: 'A dependency (MongoDB) does not answer; the instance is not ready.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

export function statusForCode(code: ErrorCode): number {
  return ERROR_CATALOG[code].status;
}

export function exposeForCode(code: ErrorCode): boolean {
  const entry: CatalogEntry = ERROR_CATALOG[code];
  return entry.expose ?? entry.status < 500;
}
