/**
 * Faults the fake CRM can inject into the notes endpoint, so the client's retry and validation
 * paths run against a real socket. Share-based faults are drawn from (seed, request sequence
 * number): the same request order gives the same faults, so a failing test reproduces.
 */
import { ValidationError } from '../../errors.js';
import type { Malformation } from './fake-note-traits.js';
import { createSeededRandom, mixSeed } from './seeded-random.js';

export type FakeCrmFaultAction =
  /** Answer with this status (5xx, 423, 429, 4xx) and a JSON error body; `retryAfter` sets `Retry-After`. */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Wait before sending headers, then answer normally (if the client is still there). */
  | { kind: 'slow'; delayMs: number }
  /** Destroy the socket before the headers, or half-way through the body. */
  | { kind: 'drop'; when: 'before_headers' | 'mid_body' }
  /** 200 with valid JSON that breaks the envelope contract. */
  | { kind: 'malformed_envelope' }
  /** 200 with a complete HTTP response whose JSON body is cut off. */
  | { kind: 'garbled_body' }
  /** Serve the page with the notes at these positions (0-based) corrupted. Not in the plan. */
  | { kind: 'corrupt_notes'; positions: number[]; malformation?: Malformation };

export type FakeCrmFaultKind = FakeCrmFaultAction['kind'];
export const FAKE_CRM_FAULT_KINDS: readonly FakeCrmFaultKind[] = [
  'status',
  'slow',
  'drop',
  'malformed_envelope',
  'garbled_body',
  'corrupt_notes',
];

/** Shares are fractions of notes requests (0..1, summing to at most 1). */
export interface FakeCrmFaultOptions {
  /** Seeds the per-request draw. Default 1. */
  seed?: number;
  /** 500, 502, 503 or 504. */
  serverErrorShare?: number;
  /** 429 with `Retry-After`. */
  rateLimitShare?: number;
  /** 423 Locked. */
  lockedShare?: number;
  /** Headers delayed by `slowMs` (beyond the client's timeout by default). */
  slowShare?: number;
  /** Connection dropped, half before the headers and half mid-body. */
  dropShare?: number;
  malformedEnvelopeShare?: number;
  garbledBodyShare?: number;
  /** `Retry-After` sent with 429s: delay-seconds or an HTTP-date. Default `1`. */
  retryAfter?: string;
  /** Delay of a slow response. Default 15,000 ms (the client's default timeout is 10 s). */
  slowMs?: number;
}

const SHARE_KEYS = [
  'serverErrorShare',
  'rateLimitShare',
  'lockedShare',
  'slowShare',
  'dropShare',
  'malformedEnvelopeShare',
  'garbledBodyShare',
] as const;

export function assertFaultOptions(options: FakeCrmFaultOptions): void {
  const problems: string[] = [];
  let sum = 0;
  for (const key of SHARE_KEYS) {
    const v = options[key] ?? 0;
    if (!Number.isFinite(v) || v < 0 || v > 1)
      problems.push(`${key} must be a fraction from 0 to 1, got ${v}`);
    sum += v;
  }
  if (sum > 1 + 1e-9) problems.push(`fault shares must add up to at most 1, got ${sum}`);
  if (options.slowMs !== undefined && !(Number.isSafeInteger(options.slowMs) && options.slowMs >= 0)) {
    problems.push(`slowMs must be a non-negative integer, got ${options.slowMs}`);
  }
  if (problems.length > 0)
    throw new ValidationError(`Invalid fake CRM faults: ${problems.join('; ')}`, { problems });
}

const SERVER_ERRORS = [500, 502, 503, 504];

/** The share-based fault for notes request number `seq` (0-based), or null for a normal answer. */
export function pickShareFault(options: FakeCrmFaultOptions, seq: number): FakeCrmFaultAction | null {
  const r = createSeededRandom(mixSeed(options.seed ?? 1, seq, 0xfa17));
  const u = r.next();
  const detail = r.next();
  let edge = 0;
  const hit = (share: number | undefined) => {
    edge += share ?? 0;
    return u < edge;
  };
  if (hit(options.serverErrorShare)) {
    return { kind: 'status', status: SERVER_ERRORS[Math.floor(detail * SERVER_ERRORS.length)] ?? 500 };
  }
  if (hit(options.rateLimitShare))
    return { kind: 'status', status: 429, retryAfter: options.retryAfter ?? '1' };
  if (hit(options.lockedShare)) return { kind: 'status', status: 423 };
  if (hit(options.slowShare)) return { kind: 'slow', delayMs: options.slowMs ?? 15_000 };
  if (hit(options.dropShare)) return { kind: 'drop', when: detail < 0.5 ? 'before_headers' : 'mid_body' };
  if (hit(options.malformedEnvelopeShare)) return { kind: 'malformed_envelope' };
  if (hit(options.garbledBodyShare)) return { kind: 'garbled_body' };
  return null;
}
