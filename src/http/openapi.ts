/**
 * The OpenAPI 3.1 document of every route, served at `/private/openapi.json` and committed as
 * `docs/openapi.json` (regenerate with `npm run openapi:write`). A test keeps the two equal and
 * checks that every registered route is described. Error responses come from the one catalog.
 * Long (~470 lines) because it is data: one literal per schema and route, kept in one place.
 */
import {
  REASON_CODES,
  RECONCILE_VERDICTS,
  RUN_KINDS,
  RUN_MODES,
  RUN_STATUSES,
  SEVERITIES,
  TERMINAL_RUN_STATUSES,
} from '../domain.js';
import { ERROR_CATALOG } from '../error-catalog.js';
import type { ErrorCode } from '../errors.js';
import { kindsShownByDefault, kindsTriggeredByCid } from '../migration/run-kinds.js';
import { HTTP_ERROR_CODES } from './error-catalog.js';
import { EXPORT_FORMATS, FAILURES_DEFAULT_LIMIT, FAILURES_MAX_LIMIT } from './failure-routes.js';
import { consolePaths, consoleSchemas } from './openapi-console.js';
import { waveOpenApi } from './openapi-waves.js';
import { CID_PATTERN, COMPANY_SSO_ID_PATTERN, RUN_ID_PATTERN } from './parse-input.js';
import { READ_PATH_DEFAULT_LIMIT, READ_PATH_MAX_LIMIT } from './read-path-routes.js';
import { RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT } from './run-routes.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const OPENAPI_PATH = '/private/openapi.json';

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string): JsonObject => ({ type: [type, 'null'] });
const BASIC: Json[] = [{ basicAuth: [] }];
const BEARER: Json[] = [{ readToken: [] }];

const cidString = CID_PATTERN.source;

const cidQuery: JsonObject = {
  name: 'cid',
  in: 'query',
  required: true,
  description: 'Legacy CRM organisation id (positive integer, ASCII digits, no leading zero).',
  schema: { type: 'string', pattern: cidString },
};

function limitQuery(defaultLimit: number, maxLimit: number): JsonObject {
  return {
    name: 'limit',
    in: 'query',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: maxLimit, default: defaultLimit },
  };
}

function errors(...codes: ErrorCode[]): JsonObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CATALOG[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const sorted = [...byStatus].sort((a, b) => a[0] - b[0]);
  return Object.fromEntries(
    sorted.map(([status, list]): [string, JsonObject] => [
      String(status),
      {
        description: list.map((c) => `\`${c}\`: ${ERROR_CATALOG[c].description}`).join(' '),
        content: {
          'application/json': {
            schema: {
              allOf: [ref('Error'), { properties: { error: { enum: list } } }],
            },
          },
        },
      },
    ]),
  );
}

function json(description: string, schema: JsonObject): JsonObject {
  return { description, content: { 'application/json': { schema } } };
}

const runStatusProperties: JsonObject = {
  status: { type: 'string', enum: [...RUN_STATUSES] },
  run_id: { type: 'string' },
  kind: { type: 'string', enum: [...RUN_KINDS], description: 'What the run does (DESIGN.md §11.1).' },
  progress_pct: { type: 'number', minimum: 0, maximum: 100 },
  notes_processed: { type: 'integer' },
  notes_total: nullable('integer'),
  notes_migrated: { type: 'integer' },
  notes_skipped: { type: 'integer' },
  notes_failed: { type: 'integer' },
  out_of_scope_count: { type: 'integer' },
  failure_rate: { type: 'number', description: 'failed / in-scope processed' },
  match_pct: { type: ['number', 'null'], description: 'CDP legacy notes / in-scope CRM notes, at the end' },
  started_at: { type: ['string', 'null'], format: 'date-time' },
  updated_at: { type: 'string', format: 'date-time' },
  finished_at: { type: ['string', 'null'], format: 'date-time' },
  halt_reason: nullable('string'),
  error: {
    oneOf: [
      { type: 'null' },
      { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
    ],
  },
  triggered_by: {
    type: ['string', 'null'],
    description: 'Who asked for the run: the Basic-auth user (`ops`, `ops (cli)`), or `wave:<id>`.',
  },
  config: {
    oneOf: [
      { type: 'null' },
      {
        type: 'object',
        description: 'The settings that shaped the run, stamped by the worker that claimed it.',
        properties: {
          service_version: { type: 'string' },
          sanitizer_policy_sha256: { type: 'string' },
          attachment_hosts: { type: 'array', items: { type: 'string' } },
          note_type_allowlist: { type: 'array', items: { type: 'integer' } },
          page_size: { type: 'integer' },
          max_failure_rate: { type: 'number' },
          max_warning_rate: { type: 'number' },
          match_pct_threshold: { type: 'number' },
        },
      },
    ],
  },
  target_run_id: { type: ['string', 'null'], description: 'The run a `rollback` run undoes.' },
  rolled_back_by: {
    type: ['string', 'null'],
    description: 'On a migrate or repair run: the rollback run that undid it (set when it succeeded).',
  },
  reconcile: {
    oneOf: [
      { type: 'null' },
      {
        type: 'object',
        description:
          'Reconcile and repair runs: in-scope CRM notes by verdict, and CDP orphans (DESIGN.md §11.5; docs/run-kinds.md "Verdicts").',
        properties: Object.fromEntries(RECONCILE_VERDICTS.map((v) => [v, { type: 'integer' }])),
      },
    ],
  },
  repair: {
    oneOf: [
      { type: 'null' },
      {
        type: 'object',
        description: 'Repair runs: what was written.',
        properties: {
          inserted: { type: 'integer', description: '`missing` notes inserted' },
          replaced: { type: 'integer', description: '`stale` notes replaced (filtered on the values read)' },
          replace_skipped: {
            type: 'integer',
            description: '`stale` notes left: edited meanwhile, or an attachment could not be re-hosted',
          },
        },
      },
    ],
  },
  rollback: {
    oneOf: [
      { type: 'null' },
      {
        type: 'object',
        description: 'Rollback runs (DESIGN.md §11.6).',
        properties: {
          notes_deleted: { type: 'integer' },
          notes_kept: { type: 'integer', description: 'Edited in CDP (or without a fingerprint): kept' },
          objects_deleted: { type: 'integer' },
        },
      },
    ],
  },
  options: {
    type: 'object',
    description: 'Trigger options of the run (`{}` when none).',
    properties: { verify_attachments: { type: 'boolean' } },
  },
  halt_diagnosis: {
    oneOf: [{ type: 'null' }, ref('Diagnosis')],
    description: 'Why the run halted (DESIGN.md §11.4); null unless it halted with a diagnosis.',
  },
  forecast: {
    oneOf: [{ type: 'null' }, ref('Forecast')],
    description: 'A dry run’s forecast so far (DESIGN.md §11.3); null for other kinds.',
  },
};

const counts = (description: string): JsonObject => ({
  type: 'object',
  description,
  additionalProperties: { type: 'integer' },
  propertyNames: { enum: [...REASON_CODES] },
});

const diagnosisSchema: JsonObject = {
  type: 'object',
  required: ['reason_code', 'share', 'count', 'sample_note_ids', 'hint', 'systemic'],
  properties: {
    reason_code: { type: 'string', enum: [...REASON_CODES] },
    share: {
      type: 'number',
      description: 'count ÷ in-scope notes (÷ attachments for every attachment blocked)',
    },
    count: { type: 'integer' },
    sample_note_ids: { type: 'array', items: { type: 'string' }, maxItems: 5 },
    hint: { type: 'string', description: 'What is wrong and what to fix' },
    systemic: {
      type: 'boolean',
      description: 'A cause that halts a run after the first page it shows on, whatever the failure rate',
    },
  },
};

const forecastSchema: JsonObject = {
  type: 'object',
  description: 'What a real migration would report (figures are the dry run’s own counters), and more.',
  properties: {
    complete: { type: 'boolean', description: 'The dry run has read every page' },
    verify_attachments: { type: 'boolean' },
    pages: { type: 'integer' },
    notes_total: nullable('integer'),
    migrated: { type: 'integer' },
    skipped: { type: 'integer', description: 'Already in CDP' },
    out_of_scope: { type: 'integer' },
    failed: { type: 'integer' },
    with_warnings: { type: 'integer' },
    failures_by_reason: counts('Failure records by reason code'),
    warnings_by_reason: counts('Warning records by reason code'),
    failure_rate: { type: 'number' },
    warning_rate: { type: 'number' },
    terminal_status: {
      type: ['string', 'null'],
      enum: [...TERMINAL_RUN_STATUSES, null],
      description: 'What a real run would end with (null until complete)',
    },
    match_pct: nullable('number'),
    would_halt: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            page: { type: 'integer' },
            trigger: { type: 'string', enum: ['systemic', 'failure_rate', 'warning_rate'] },
            reason: { type: 'string' },
            failure_rate: { type: 'number' },
            warning_rate: { type: 'number' },
            diagnosis: { oneOf: [{ type: 'null' }, ref('Diagnosis')] },
            at_halt: {
              type: 'object',
              description: 'The counters and failure log of a real run at its halt',
            },
          },
        },
      ],
    },
    contacts: {
      type: 'object',
      properties: {
        persons_seen: { type: 'integer' },
        persons_found: { type: 'integer' },
        exact: { type: 'boolean', description: 'false above 2,000 persons: a HyperLogLog estimate (±1.6 %)' },
      },
    },
    owners: {
      type: 'object',
      properties: {
        by_crm_user_id: { type: 'integer' },
        by_email: { type: 'integer' },
        unmapped: { type: 'integer' },
      },
    },
    attachments: {
      type: 'object',
      properties: {
        declared: { type: 'integer' },
        would_store: { type: 'integer' },
        would_store_bytes: { type: 'integer' },
        blocked: { type: 'integer' },
        blocked_hosts: {
          type: 'array',
          items: { type: 'object', properties: { host: { type: 'string' }, count: { type: 'integer' } } },
        },
        blocked_elsewhere: { type: 'integer' },
        verified: { type: 'boolean' },
      },
    },
    diagnosis: { oneOf: [{ type: 'null' }, ref('Diagnosis')] },
    estimated_duration: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            total_ms: { type: 'integer' },
            read_ms_per_page: { type: 'integer' },
            write_ms_per_note: { type: 'number' },
            basis: { type: 'string' },
          },
        },
      ],
    },
  },
};

const schemas: JsonObject = {
  Diagnosis: diagnosisSchema,
  Forecast: forecastSchema,
  Error: {
    type: 'object',
    required: ['error', 'message', 'details'],
    properties: {
      error: { type: 'string', enum: [...HTTP_ERROR_CODES] },
      message: { type: 'string' },
      details: { type: 'object', description: 'For VALIDATION_ERROR: `issues` (zod issues) and `location`.' },
    },
  },
  MigrateRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['cid', 'company_sso_id'],
    properties: {
      cid: {
        oneOf: [
          { type: 'string', pattern: cidString },
          { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        ],
      },
      company_sso_id: { type: 'string', pattern: COMPANY_SSO_ID_PATTERN.source },
      kind: {
        type: 'string',
        enum: [...kindsTriggeredByCid()],
        default: 'migrate',
        description:
          'What the run does (DESIGN.md §11.1). A `rollback` acts on one run: `POST /private/notes/migration/runs/{run_id}/rollback`.',
      },
      mode: {
        type: 'string',
        enum: [...RUN_MODES],
        default: 'restart',
        description:
          '`restart` from page 1, or `resume` from the checkpoint of the last unsuccessful run of the same kind (`migrate`, `dry_run`; 400 for `reconcile` and `repair`, which always restart).',
      },
      verify_attachments: {
        type: 'boolean',
        description:
          'kind `dry_run` only (400 for other kinds): also download every attachment and check its size cap and magic bytes; nothing is uploaded.',
      },
    },
  },
  MigrateResponse: {
    type: 'object',
    required: ['job_id', 'run_id', 'status'],
    properties: {
      job_id: { type: 'string' },
      run_id: { type: 'string' },
      status: { const: 'in_progress' },
    },
  },
  CancelRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['cid'],
    properties: {
      cid: {
        oneOf: [
          { type: 'string', pattern: cidString },
          { type: 'integer', minimum: 1 },
        ],
      },
    },
  },
  RunStatus: { type: 'object', properties: runStatusProperties, required: ['status', 'run_id'] },
  NotStarted: { type: 'object', required: ['status'], properties: { status: { const: 'not_started' } } },
  StatusView: { oneOf: [ref('RunStatus'), ref('NotStarted')] },
  CancelResponse: {
    allOf: [ref('RunStatus'), { type: 'object', properties: { cancel_requested: { type: 'boolean' } } }],
  },
  RunHistoryEntry: {
    allOf: [
      ref('RunStatus'),
      {
        type: 'object',
        properties: {
          cid: { type: 'string' },
          company_sso_id: { type: 'string' },
          mode: { type: 'string', enum: [...RUN_MODES] },
          job_id: nullable('string'),
          resumed_from_run_id: nullable('string'),
          notes_with_warnings: { type: 'integer' },
          notes_in_scope: nullable('integer'),
          checkpoint: {
            type: 'object',
            properties: {
              page: { type: 'integer' },
              total_pages: nullable('integer'),
              cursor: nullable('string'),
            },
          },
          cancel_requested: { type: 'boolean' },
          owner: nullable('string'),
          closure: {
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                properties: {
                  balanced: { type: 'boolean' },
                  accounted: { type: 'integer' },
                  unaccounted_count: { type: 'integer' },
                },
              },
            ],
          },
          created_at: { type: 'string', format: 'date-time' },
        },
      },
    ],
  },
  RollbackRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dry_run: {
        type: 'boolean',
        default: false,
        description: 'Answer the preview counts and change nothing.',
      },
    },
  },
  RollbackResponse: {
    oneOf: [
      {
        type: 'object',
        description: 'The rollback run was created and its job enqueued.',
        required: ['dry_run', 'cid', 'company_sso_id', 'rollback_of', 'job_id', 'run_id', 'status'],
        properties: {
          dry_run: { const: false },
          cid: { type: 'string' },
          company_sso_id: { type: 'string' },
          rollback_of: { type: 'string', description: 'The run being rolled back.' },
          job_id: { type: 'string' },
          run_id: {
            type: 'string',
            description: 'The rollback run (follow it with status or the SSE stream).',
          },
          status: { const: 'in_progress' },
        },
      },
      {
        type: 'object',
        description:
          'The preview: what the rollback would do now, computed from the same per-note decision the rollback run uses.',
        required: [
          'dry_run',
          'rollback_of',
          'would_delete',
          'would_keep',
          'objects',
          'notes_without_provenance',
        ],
        properties: {
          dry_run: { const: true },
          cid: { type: 'string' },
          company_sso_id: { type: 'string' },
          rollback_of: { type: 'string' },
          rolled_back_by: nullable('string'),
          would_delete: { type: 'integer', description: 'Untouched notes of the run.' },
          would_keep: { type: 'integer', description: 'Notes of the run edited in CDP (kept, reported).' },
          objects: { type: 'integer', description: 'S3 objects of the notes it would delete.' },
          notes_without_provenance: {
            type: 'integer',
            description:
              'Legacy notes of the company with no provenance (migrated before provenance existed): never deleted by any rollback.',
          },
        },
      },
    ],
  },
  Failure: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      cid: { type: 'string' },
      company_sso_id: { type: 'string' },
      run_id: { type: 'string' },
      kind: { type: 'string', enum: [...RUN_KINDS], description: 'Kind of the run that recorded it.' },
      legacy_crm_note_id: nullable('string'),
      reason_code: { type: 'string', enum: [...REASON_CODES] },
      severity: { type: 'string', enum: [...SEVERITIES] },
      details: { type: 'object' },
      created_at: { type: 'string', format: 'date-time' },
    },
  },
  Note: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      company_sso_id: { type: 'string' },
      contact_id: { type: 'string' },
      owner_id: nullable('string'),
      author_name: {
        type: ['string', 'null'],
        description: 'Live SSO name of the owner; else `legacy_owner_label`; else null.',
      },
      author_source: { type: 'string', enum: ['sso', 'legacy_owner_label', 'none'] },
      note: { type: 'string', description: 'Sanitized HTML, as stored.' },
      attachments: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            url: { type: 'string' },
            file_name: { type: 'string' },
            file_size_in_byte: { type: 'integer' },
          },
        },
      },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
      legacy_crm_note_id: nullable('string'),
      legacy_owner_label: nullable('string'),
      permissions: {
        type: 'object',
        description:
          'Only the owner (X-User-Sso-Id = owner_id) may edit or delete; notes without an owner: nobody.',
        properties: { can_edit: { type: 'boolean' }, can_delete: { type: 'boolean' } },
      },
    },
  },
};

const paths: JsonObject = {
  '/healthz': {
    get: {
      summary: 'Liveness: the process answers (no database call)',
      security: [],
      responses: { '200': json('Alive', { type: 'object', properties: { status: { const: 'ok' } } }) },
    },
  },
  '/readyz': {
    get: {
      summary: 'Readiness: MongoDB answers a ping',
      security: [],
      responses: {
        '200': json('Ready', { type: 'object', properties: { status: { const: 'ready' } } }),
        ...errors('NOT_READY'),
      },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics (text exposition format); no auth, bind the port privately',
      security: [],
      responses: {
        '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    },
  },
  [OPENAPI_PATH]: {
    get: {
      summary: 'This document',
      security: BASIC,
      responses: { '200': json('OpenAPI 3.1 document', { type: 'object' }), ...errors('UNAUTHORIZED') },
    },
  },
  '/private/notes/migrate': {
    post: {
      summary: 'Trigger a run of one CID: a migration (default) or a dry run (`kind: "dry_run"`)',
      description:
        'Order of checks: body (415, 413, 400; an option the kind does not take is 400) → feature flag (403; kinds that write notes, not `dry_run`) → already migrated (409; `migrate` only) → run to resume (409) → CRM knows the CID (404, 502) → CID lock (409; one run of any kind per CID) → run + job → 200.',
      security: BASIC,
      requestBody: { required: true, content: { 'application/json': { schema: ref('MigrateRequest') } } },
      responses: {
        '200': json('Run created and job enqueued', ref('MigrateResponse')),
        ...errors(
          'VALIDATION_ERROR',
          'UNAUTHORIZED',
          'CSRF_REJECTED',
          'FLAG_DISABLED',
          'CID_NOT_FOUND',
          'ALREADY_MIGRATED',
          'JOB_ALREADY_RUNNING',
          'NO_RUN_TO_RESUME',
          'PAYLOAD_TOO_LARGE',
          'UNSUPPORTED_MEDIA_TYPE',
          'INTERNAL',
          'CRM_UNAVAILABLE',
        ),
      },
    },
  },
  '/private/notes/migration/runs/{run_id}/rollback': {
    post: {
      summary: 'Roll back one finished migrate or repair run (or preview it with `dry_run: true`)',
      description:
        'Deletes the notes the run inserted that are still untouched (the delete filters on every value read, so an edit in between is kept) and their S3 objects; keeps and reports edited notes (`ROLLBACK_KEPT_EDITED`). Order of checks: path and body (415, 413, 400) → the run exists (404) → it is a finished migrate/repair run (409 `ROLLBACK_NOT_ALLOWED`) → [dry_run: the preview, 200] → not rolled back yet (409 `ALREADY_ROLLED_BACK`) → CID lock (409 `JOB_ALREADY_RUNNING`) → run + job → 200. No feature flag and no CRM call: an undo works while both are off.',
      security: BASIC,
      parameters: [
        {
          name: 'run_id',
          in: 'path',
          required: true,
          description: 'The run to roll back.',
          schema: { type: 'string', pattern: RUN_ID_PATTERN.source },
        },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: ref('RollbackRequest') } } },
      responses: {
        '200': json('The rollback run started, or the preview', ref('RollbackResponse')),
        ...errors(
          'VALIDATION_ERROR',
          'UNAUTHORIZED',
          'NOT_FOUND',
          'ROLLBACK_NOT_ALLOWED',
          'ALREADY_ROLLED_BACK',
          'JOB_ALREADY_RUNNING',
          'PAYLOAD_TOO_LARGE',
          'UNSUPPORTED_MEDIA_TYPE',
          'INTERNAL',
        ),
      },
    },
  },
  '/private/notes/migration/cancel': {
    post: {
      summary: 'Cancel the run in progress of a CID (cooperative: after the current page)',
      security: BASIC,
      requestBody: { required: true, content: { 'application/json': { schema: ref('CancelRequest') } } },
      responses: {
        '200': json('Cancel requested (or done, when no worker had started the run)', ref('CancelResponse')),
        ...errors(
          'VALIDATION_ERROR',
          'UNAUTHORIZED',
          'CSRF_REJECTED',
          'NOT_FOUND',
          'PAYLOAD_TOO_LARGE',
          'UNSUPPORTED_MEDIA_TYPE',
        ),
      },
    },
  },
  '/private/notes/migration/status': {
    get: {
      summary: 'Status of the latest run of a CID',
      security: BASIC,
      parameters: [cidQuery],
      responses: {
        '200': json('Status, or `{status: "not_started"}`', ref('StatusView')),
        ...errors('VALIDATION_ERROR', 'UNAUTHORIZED'),
      },
    },
  },
  '/private/notes/migration/status/stream': {
    get: {
      summary: 'Live status as Server-Sent Events',
      description:
        '`event: status` (data = the status body, `id` naming that state) now and on every change; `: ping` comments every 15 s; after a terminal status `event: end` and the stream closes. A client that reconnects with `Last-Event-ID` gets the current state at once unless that id already names it, so a terminal status arrives exactly once.',
      security: BASIC,
      parameters: [cidQuery],
      responses: {
        '200': {
          description: 'Event stream',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        ...errors('VALIDATION_ERROR', 'UNAUTHORIZED'),
      },
    },
  },
  '/private/notes/migration/runs': {
    get: {
      summary: 'Run history of a CID, newest first',
      security: BASIC,
      parameters: [cidQuery, limitQuery(RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT)],
      responses: {
        '200': json('Runs', {
          type: 'object',
          properties: { cid: { type: 'string' }, runs: { type: 'array', items: ref('RunHistoryEntry') } },
        }),
        ...errors('VALIDATION_ERROR', 'UNAUTHORIZED'),
      },
    },
  },
  '/private/notes/migration/failures': {
    get: {
      summary: 'Failure records of a CID: a JSON page, or a CSV / NDJSON export of every match',
      security: BASIC,
      parameters: [
        cidQuery,
        {
          name: 'run_id',
          in: 'query',
          description: 'Only this run (any kind).',
          schema: { type: 'string', pattern: RUN_ID_PATTERN.source },
        },
        {
          name: 'kind',
          in: 'query',
          description: `Only runs of this kind. Without \`kind\` or \`run_id\`, only records of ${kindsShownByDefault().join(' and ')} runs are shown (DESIGN.md §11.1).`,
          schema: { type: 'string', enum: [...RUN_KINDS] },
        },
        { name: 'reason_code', in: 'query', schema: { type: 'string', enum: [...REASON_CODES] } },
        { name: 'severity', in: 'query', schema: { type: 'string', enum: [...SEVERITIES] } },
        {
          name: 'kind',
          in: 'query',
          description:
            'Only records of runs of this kind. Without `kind` and `run_id`, only kinds shown by default (`migrate`): a dry run’s records are asked for by `kind=dry_run` or its `run_id`.',
          schema: { type: 'string', enum: [...RUN_KINDS] },
        },
        {
          name: 'after',
          in: 'query',
          description: '`next_cursor` of the previous page (JSON only)',
          schema: { type: 'string', pattern: '^[0-9a-f]{24}$' },
        },
        { ...limitQuery(FAILURES_DEFAULT_LIMIT, FAILURES_MAX_LIMIT), description: 'JSON only' },
        {
          name: 'format',
          in: 'query',
          schema: { type: 'string', enum: [...EXPORT_FORMATS], default: 'json' },
        },
      ],
      responses: {
        '200': {
          description:
            'A page (JSON) or a streamed export (CSV with a header row, or one JSON object per line)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  items: { type: 'array', items: ref('Failure') },
                  next_cursor: nullable('string'),
                },
              },
            },
            'text/csv': { schema: { type: 'string' } },
            'application/x-ndjson': { schema: { type: 'string' } },
          },
        },
        ...errors('VALIDATION_ERROR', 'UNAUTHORIZED'),
      },
    },
  },
  '/private/dash/': {
    get: {
      summary: 'Agenda dashboard (agendash 8.2.4) UI; its JSON API lives under /private/dash/api',
      description:
        '`/private/dash` redirects here. Its POST actions pass the CSRF guard (403 `CSRF_REJECTED`); creating jobs is refused (404). Requeue/Retry are harmless: a job for a run that is terminal or leased elsewhere does nothing.',
      security: BASIC,
      responses: {
        '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } },
        ...errors('UNAUTHORIZED', 'NOT_FOUND'),
      },
    },
  },
  '/v1/contacts/{contact_id}/notes': {
    get: {
      summary: 'Read path: notes of a contact, newest first, with author and permissions',
      security: BEARER,
      parameters: [
        { name: 'contact_id', in: 'path', required: true, schema: { type: 'string' } },
        {
          name: 'company_sso_id',
          in: 'query',
          required: true,
          schema: { type: 'string', pattern: COMPANY_SSO_ID_PATTERN.source },
        },
        limitQuery(READ_PATH_DEFAULT_LIMIT, READ_PATH_MAX_LIMIT),
        {
          name: 'X-User-Sso-Id',
          in: 'header',
          required: false,
          description: 'The requesting user; permissions are computed for them (none without it).',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': json('Notes', {
          type: 'object',
          properties: { contact_id: { type: 'string' }, notes: { type: 'array', items: ref('Note') } },
        }),
        ...errors('VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
      },
    },
  },
};

export function buildOpenApiDocument(): JsonObject {
  const waves = waveOpenApi({ ref, nullable, json, errors, basic: BASIC });
  return {
    openapi: '3.1.0',
    info: {
      title: 'crm-notes-migrator HTTP API',
      version: '1.0.0',
      description:
        'Private operator API (HTTP Basic), live progress (SSE), failure exports, metrics and the CDP read path (bearer token). Errors are always `{"error":"CODE","message":"...","details":{}}`.',
    },
    security: BASIC,
    paths: { ...paths, ...waves.paths, ...consolePaths({ ref, errors }) },
    components: {
      securitySchemes: {
        basicAuth: { type: 'http', scheme: 'basic', description: 'API_USERNAME / API_PASSWORD' },
        readToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'READ_API_TOKEN (read path closed when unset)',
        },
      },
      schemas: { ...schemas, ...waves.schemas, ...consoleSchemas({ ref, errors }) },
    },
  };
}
