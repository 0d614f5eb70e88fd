/**
 * The OpenAPI paths and schemas of the operator console (#17): the tenant list and its stream, the
 * run detail, and the console's HTML pages and files. Kept out of `openapi.ts` (already long, and
 * edited by every API issue) and merged into its document by name.
 */
import { RUN_KINDS, RUN_STATUSES } from '../domain.js';
import type { ErrorCode } from '../errors.js';
import {
  TENANT_SORTS,
  TENANTS_DEFAULT_LIMIT,
  TENANTS_MAX_LIMIT,
  TENANTS_STREAM_MAX_CIDS,
} from './tenant-routes.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The helpers of `openapi.ts` these paths are written with, passed in (no import cycle). */
export interface OpenApiHelpers {
  ref: (name: string) => JsonObject;
  errors: (...codes: ErrorCode[]) => JsonObject;
}

const BASIC: Json[] = [{ basicAuth: [] }];
const html = (description: string): JsonObject => ({
  description,
  content: { 'text/html': { schema: { type: 'string' } } },
});

const nullableNumber: JsonObject = { type: ['number', 'null'] };

export function consoleSchemas({ ref }: OpenApiHelpers): JsonObject {
  return {
    TenantItem: {
      allOf: [
        ref('RunStatus'),
        {
          type: 'object',
          description: 'A CID and its latest run, with the figures the console shows.',
          properties: {
            cid: { type: 'string' },
            company_sso_id: { type: 'string' },
            notes_per_s: {
              ...nullableNumber,
              description: 'Over the newest pages of the run (null before two pages, or once finished).',
            },
            eta_s: { ...nullableNumber, description: 'Seconds left at that rate; null when unknown.' },
            hint: {
              type: ['string', 'null'],
              description: 'The halt diagnosis hint, else the halt reason or error message.',
            },
            display: {
              type: 'object',
              description: 'The figures formatted as the console renders them (its live updates use these).',
              additionalProperties: { type: 'string' },
            },
          },
        },
      ],
    },
    TenantList: {
      type: 'object',
      properties: {
        items: { type: 'array', items: ref('TenantItem') },
        total: { type: 'integer', description: 'CIDs matching every filter.' },
        page: { type: 'integer' },
        limit: { type: 'integer' },
        pages: { type: 'integer' },
        counts_by_status: {
          type: 'object',
          description: 'CIDs matching the search and kind, by the status of their latest run.',
          additionalProperties: { type: 'integer' },
        },
      },
    },
    RunDetail: {
      type: 'object',
      properties: {
        run: ref('RunHistoryEntry'),
        failures_by_reason: {
          type: 'array',
          description: 'Failure records of the run by reason code, most first.',
          items: {
            type: 'object',
            properties: {
              reason_code: { type: 'string' },
              severity: { type: 'string' },
              count: { type: 'integer' },
            },
          },
        },
        page_timeline: {
          type: 'array',
          description: 'The newest committed pages (at most 500), oldest first.',
          items: {
            type: 'object',
            properties: {
              page: { type: 'integer' },
              at: { type: 'string', format: 'date-time' },
              notes_processed: { type: 'integer' },
            },
          },
        },
      },
    },
  };
}

const runIdPath: JsonObject = {
  name: 'run_id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
};

const tenantFilters: Json[] = [
  {
    name: 'status',
    in: 'query',
    description: "Of the CID's latest run.",
    schema: { type: 'string', enum: [...RUN_STATUSES] },
  },
  {
    name: 'kind',
    in: 'query',
    description: "Of the CID's latest run.",
    schema: { type: 'string', enum: [...RUN_KINDS] },
  },
  {
    name: 'q',
    in: 'query',
    description: 'A CID prefix, or part of a company_sso_id (any case); a literal, not a pattern.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' },
  },
  { name: 'sort', in: 'query', schema: { type: 'string', enum: [...TENANT_SORTS], default: 'cid' } },
  { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100000, default: 1 } },
  {
    name: 'limit',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: TENANTS_MAX_LIMIT, default: TENANTS_DEFAULT_LIMIT },
  },
];

export function consolePaths({ ref, errors }: OpenApiHelpers): JsonObject {
  return {
    '/private/notes/migration/tenants': {
      get: {
        summary: 'Every CID with a run, by its latest run: one page, filtered and searched on the server',
        security: BASIC,
        parameters: tenantFilters,
        responses: {
          '200': {
            description: 'A page of tenants',
            content: { 'application/json': { schema: ref('TenantList') } },
          },
          ...errors('VALIDATION_ERROR', 'UNAUTHORIZED'),
        },
      },
    },
    '/private/notes/migration/tenants/stream': {
      get: {
        summary: 'Live tenant rows as Server-Sent Events',
        description: `\`event: tenant\` (data = a TenantItem, or \`{cid, status: "not_started"}\`) for each CID now and on every change of its latest run; the stream stays open (\`: ping\` every 15 s). Each id names the state of every followed CID: a client that reconnects with \`Last-Event-ID\` gets nothing again when nothing changed, every CID's current state otherwise. Up to ${TENANTS_STREAM_MAX_CIDS} CIDs.`,
        security: BASIC,
        parameters: [
          {
            name: 'cids',
            in: 'query',
            required: true,
            description: `1-${TENANTS_STREAM_MAX_CIDS} comma-separated CIDs.`,
            schema: { type: 'string' },
          },
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'The id of the last event read, sent by EventSource when it reconnects.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'Event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errors('VALIDATION_ERROR', 'UNAUTHORIZED'),
        },
      },
    },
    '/private/notes/migration/runs/{run_id}': {
      get: {
        summary: 'One run with its failure counts by reason code and its page timeline',
        security: BASIC,
        parameters: [runIdPath],
        responses: {
          '200': { description: 'The run', content: { 'application/json': { schema: ref('RunDetail') } } },
          ...errors('VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
        },
      },
    },
    '/private/console': {
      get: {
        summary:
          'Operator console: the tenants page (takes the query of /private/notes/migration/tenants, at most 100 rows)',
        security: BASIC,
        parameters: tenantFilters,
        responses: {
          '200': html('HTML page'),
          '400': html('The refused filter, as a page'),
          ...errors('UNAUTHORIZED'),
        },
      },
    },
    '/private/console/runs/{run_id}': {
      get: {
        summary: 'Operator console: the run page',
        security: BASIC,
        parameters: [runIdPath],
        responses: {
          '200': html('HTML page'),
          '400': html('A malformed run id, as a page'),
          '404': html('No such run, as a page'),
          ...errors('UNAUTHORIZED'),
        },
      },
    },
    '/private/console/waves': {
      get: {
        summary: 'Operator console: waves (open one by id; `?wave_id=` redirects to its page)',
        security: BASIC,
        parameters: [{ name: 'wave_id', in: 'query', schema: { type: 'string' } }],
        responses: {
          '200': html('HTML page'),
          '302': { description: 'To the wave page' },
          ...errors('UNAUTHORIZED'),
        },
      },
    },
    '/private/console/waves/{wave_id}': {
      get: {
        summary: 'Operator console: one wave (needs the waves API)',
        security: BASIC,
        parameters: [{ name: 'wave_id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': html('HTML page'),
          '404': html('No waves API in this service'),
          ...errors('UNAUTHORIZED'),
        },
      },
    },
    '/private/console/assets/{file}': {
      get: {
        summary: "The console's scripts and stylesheet (a fixed list of files)",
        security: BASIC,
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'The file',
            content: {
              'text/javascript': { schema: { type: 'string' } },
              'text/css': { schema: { type: 'string' } },
            },
          },
          ...errors('VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
        },
      },
    },
  };
}
