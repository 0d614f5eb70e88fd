/**
 * The wave routes' part of the OpenAPI document (#16): their schemas and paths, built with the
 * main document's helpers (passed in, so there is no import cycle). Data, like openapi.ts.
 */
import { WAVE_MEMBER_STATES, WAVE_RUN_KINDS, WAVE_STATES } from '../domain.js';
import type { ErrorCode } from '../errors.js';
import { CID_PATTERN, COMPANY_SSO_ID_PATTERN } from './parse-input.js';
import {
  MAX_PARALLEL_TENANTS,
  MAX_WAVE_MEMBERS,
  WAVE_ID_PATTERN,
  WAVE_MAX_BODY_BYTES,
  WAVES_DEFAULT_LIMIT,
  WAVES_MAX_LIMIT,
} from './wave-routes.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface OpenApiHelpers {
  ref: (name: string) => JsonObject;
  nullable: (type: string) => JsonObject;
  json: (description: string, schema: JsonObject) => JsonObject;
  errors: (...codes: ErrorCode[]) => JsonObject;
  basic: Json[];
}

export function waveOpenApi(h: OpenApiHelpers): { schemas: JsonObject; paths: JsonObject } {
  const { ref, nullable, json, errors, basic } = h;
  const date = { type: 'string', format: 'date-time' };
  const waveIdParam: JsonObject = {
    name: 'wave_id',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: WAVE_ID_PATTERN.source },
  };
  const member: JsonObject = {
    type: 'object',
    properties: {
      cid: { type: 'string' },
      company_sso_id: { type: 'string' },
      state: { type: 'string', enum: [...WAVE_MEMBER_STATES] },
      canary: { type: 'boolean' },
      run_id: nullable('string'),
      run_ids: {
        type: 'array',
        items: { type: 'string' },
        description: 'Every run this wave started for the member.',
      },
      attempts: { type: 'integer' },
      reason: {
        oneOf: [
          { type: 'null' },
          { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
        ],
        description: 'Why it was skipped, or refused for now (`JOB_ALREADY_RUNNING`: retried at `retry_at`).',
      },
      retry_at: { type: ['string', 'null'], format: 'date-time' },
      diagnosis: { oneOf: [{ type: 'null' }, ref('WaveMemberDiagnosis')] },
      progress_pct: { type: 'number' },
      notes_processed: { type: 'integer' },
      notes_total: nullable('integer'),
      notes_per_s: nullable('number'),
      crm_rate_limited: {
        type: ['integer', 'null'],
        description: '429s this tenant got (with the shared budget).',
      },
      started_at: { type: ['string', 'null'], format: 'date-time' },
      finished_at: { type: ['string', 'null'], format: 'date-time' },
    },
  };
  const memberDiagnosis: JsonObject = {
    type: 'object',
    description:
      'Why the run halted or failed, or (dry-run wave) where its forecast says a real run would halt; null otherwise.',
    required: ['cause', 'halt_reason', 'failure_rate', 'error', 'would_halt'],
    properties: {
      cause: {
        oneOf: [{ type: 'null' }, ref('Diagnosis')],
        description: "The run's `halt_diagnosis` (or the forecast's diagnosis at its would-be halt).",
      },
      halt_reason: nullable('string'),
      failure_rate: { type: 'number' },
      error: {
        oneOf: [
          { type: 'null' },
          { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
        ],
      },
      would_halt: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            properties: {
              page: { type: 'integer' },
              trigger: { type: 'string', enum: ['systemic', 'failure_rate', 'warning_rate'] },
              reason: { type: 'string' },
            },
          },
        ],
      },
    },
  };
  const schemas: JsonObject = {
    WaveMemberDiagnosis: memberDiagnosis,
    CreateWaveRequest: {
      type: 'object',
      additionalProperties: false,
      required: ['members', 'max_parallel_tenants'],
      properties: {
        members: {
          type: 'array',
          minItems: 1,
          maxItems: MAX_WAVE_MEMBERS,
          description: 'Each CID once; a CID may be in one wave that has not ended.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['cid', 'company_sso_id'],
            properties: {
              cid: {
                oneOf: [
                  { type: 'string', pattern: CID_PATTERN.source },
                  { type: 'integer', minimum: 1 },
                ],
              },
              company_sso_id: { type: 'string', pattern: COMPANY_SSO_ID_PATTERN.source },
            },
          },
        },
        canary: {
          type: 'integer',
          minimum: 0,
          default: 1,
          description:
            'The first n members that get a run; the rest start once they all end `completed_success`.',
        },
        max_parallel_tenants: { type: 'integer', minimum: 1, maximum: MAX_PARALLEL_TENANTS },
        stop_after_failed_tenants: {
          type: 'integer',
          minimum: 1,
          default: 1,
          description:
            'This many members `halted` or `failed` (in a dry-run wave also: whose forecast says a real run would halt) pause the wave.',
        },
        kind: { type: 'string', enum: [...WAVE_RUN_KINDS], default: 'migrate' },
      },
    },
    CreateWaveResponse: {
      type: 'object',
      required: ['wave_id', 'state', 'members'],
      properties: { wave_id: { type: 'string' }, state: { const: 'running' }, members: { type: 'integer' } },
    },
    WaveMember: member,
    Wave: {
      type: 'object',
      required: ['wave_id', 'state', 'members'],
      properties: {
        wave_id: { type: 'string' },
        kind: { type: 'string', enum: [...WAVE_RUN_KINDS] },
        state: { type: 'string', enum: [...WAVE_STATES] },
        canary: {
          type: 'object',
          properties: {
            count: { type: 'integer' },
            gate: { type: 'string', enum: ['none', 'waiting', 'open', 'failed'] },
            members: { type: 'array', items: { type: 'string' } },
          },
        },
        max_parallel_tenants: { type: 'integer' },
        stop_after_failed_tenants: { type: 'integer' },
        generation: { type: 'integer', description: 'Bumped by each resume and cancel.' },
        counts: { type: 'object', description: 'Members in all, and by state.' },
        notes: {
          type: 'object',
          properties: {
            processed: { type: 'integer' },
            total_known: { type: 'integer' },
            members_with_unknown_total: { type: 'integer' },
            total_estimated: nullable('integer'),
          },
        },
        throughput_notes_per_s: nullable('number'),
        eta_seconds: nullable('integer'),
        pause: {
          oneOf: [
            { type: 'null' },
            {
              type: 'object',
              properties: {
                cause: { type: 'string', enum: ['operator', 'stop_rule', 'canary_failed'] },
                message: { type: 'string' },
                by: { type: 'string' },
                at: date,
                members: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      cid: { type: 'string' },
                      state: { type: 'string', enum: [...WAVE_MEMBER_STATES] },
                      run_id: nullable('string'),
                      diagnosis: { oneOf: [{ type: 'null' }, ref('WaveMemberDiagnosis')] },
                    },
                  },
                  description: 'The members that paused it, with their diagnoses.',
                },
              },
            },
          ],
        },
        cancel: {
          oneOf: [{ type: 'null' }, { type: 'object', properties: { by: { type: 'string' }, at: date } }],
        },
        scheduler: {
          type: 'object',
          properties: {
            owner: nullable('string'),
            live: { type: 'boolean' },
            expires_at: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        fleet: {
          type: ['object', 'null'],
          description:
            "The scheduler's last sample: the shared CRM budget, requests/s and 429s/s of every process, notes/s of the wave.",
        },
        created_by: { type: 'string' },
        created_at: date,
        updated_at: date,
        finished_at: { type: ['string', 'null'], format: 'date-time' },
        members: { type: 'array', items: ref('WaveMember') },
      },
    },
  };
  const stateChange = (what: string): JsonObject => ({
    post: {
      summary: what,
      security: basic,
      parameters: [waveIdParam],
      requestBody: {
        required: false,
        description: 'None, or `{}`.',
        content: { 'application/json': { schema: { type: 'object', additionalProperties: false } } },
      },
      responses: {
        '200': json('The wave after the change', ref('Wave')),
        ...errors(
          'VALIDATION_ERROR',
          'UNAUTHORIZED',
          'CSRF_REJECTED',
          'NOT_FOUND',
          'WAVE_STATE_CONFLICT',
          'UNSUPPORTED_MEDIA_TYPE',
        ),
      },
    },
  });
  const paths: JsonObject = {
    '/private/notes/waves': {
      post: {
        summary: 'Start a rollout wave of many tenants (canaries first, a stop rule, one shared CRM budget)',
        description: `Body up to ${WAVE_MAX_BODY_BYTES} bytes. Each member starts through the trigger guards of POST /private/notes/migrate, at most once per attempt.`,
        security: basic,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('CreateWaveRequest') } },
        },
        responses: {
          '201': json(
            'Wave created (its scheduler job is enqueued); `Location` names it',
            ref('CreateWaveResponse'),
          ),
          ...errors(
            'VALIDATION_ERROR',
            'UNAUTHORIZED',
            'CSRF_REJECTED',
            'WAVE_MEMBER_BUSY',
            'PAYLOAD_TOO_LARGE',
            'UNSUPPORTED_MEDIA_TYPE',
          ),
        },
      },
      get: {
        summary: 'Waves, newest first (without members)',
        security: basic,
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: WAVES_MAX_LIMIT, default: WAVES_DEFAULT_LIMIT },
          },
        ],
        responses: {
          '200': json('Waves', {
            type: 'object',
            properties: { items: { type: 'array', items: { type: 'object' } } },
          }),
          ...errors('VALIDATION_ERROR', 'UNAUTHORIZED'),
        },
      },
    },
    '/private/notes/waves/{wave_id}': {
      get: {
        summary: 'A wave: members with state and run, canary gate, counts, notes, throughput, ETA, fleet',
        security: basic,
        parameters: [waveIdParam],
        responses: {
          '200': json('The wave', ref('Wave')),
          ...errors('VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
        },
      },
    },
    '/private/notes/waves/{wave_id}/stream': {
      get: {
        summary: 'A wave as Server-Sent Events',
        description:
          '`event: wave` (data = the wave body) now and on every change; `: ping` every 15 s; `event: end` once the wave is completed or cancelled.',
        security: basic,
        parameters: [waveIdParam],
        responses: {
          '200': {
            description: 'Event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errors('VALIDATION_ERROR', 'UNAUTHORIZED', 'NOT_FOUND'),
        },
      },
    },
    '/private/notes/waves/{wave_id}/pause': stateChange(
      'Pause a running wave: no member starts; running ones go on',
    ),
    '/private/notes/waves/{wave_id}/resume': stateChange(
      'Resume a paused wave: halted and failed members (and canaries that did not succeed) run again, then the rest',
    ),
    '/private/notes/waves/{wave_id}/cancel': stateChange(
      'Cancel a wave: no member starts, running ones stop after their page; repeatable while cancelling',
    ),
  };
  return { schemas, paths };
}
