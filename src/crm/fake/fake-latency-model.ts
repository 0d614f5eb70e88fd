/**
 * The fake CRM's latency model (#15), pure: one draw per request from a seeded generator keyed by
 * (seed, cid, page, per_page, how often that page was asked before). The same request gets the
 * same latency whatever else runs concurrently; only the queueing in front of it depends on timing.
 */
import type { FakeLatencyOptions } from './fake-crm-behaviour.js';
import { createSeededRandom, hashString, mixSeed } from './seeded-random.js';

/** Which request a draw is for. */
export interface FakeLatencyRequest {
  cid: string;
  page: number;
  perPage: number;
  /** Notes actually on the page (fewer on the last page, 0 past the end). */
  notesOnPage: number;
  /** 0 for the first time this (cid, page, perPage) is asked, 1 for the next, and so on. */
  repeat: number;
}

export interface FakeLatencyDraw {
  latencyMs: number;
  /** The lognormal part alone (median × e^(σz)). */
  bodyMs: number;
  /** 0 unless this request hit the tail. */
  tailMs: number;
  /** Deep-page penalty included in `latencyMs`. */
  deepPageMs: number;
}

const LATENCY_SALT = 0x1a7e;

/** Median of the lognormal part for a page of `notesOnPage` notes, ms. */
export function fakeLatencyMedianMs(options: FakeLatencyOptions, notesOnPage: number): number {
  return options.baseMs + options.perNoteMs * notesOnPage;
}

/** True when the model can never add a delay (the `instant` preset). */
export function isFakeLatencyOff(options: FakeLatencyOptions): boolean {
  return (
    options.baseMs === 0 &&
    options.perNoteMs === 0 &&
    options.deepPageMsPerPage === 0 &&
    (options.tailShare === 0 || options.tailMaxMs === 0)
  );
}

export function drawFakeLatency(
  options: FakeLatencyOptions,
  seed: number,
  request: FakeLatencyRequest,
): FakeLatencyDraw {
  const random = createSeededRandom(
    mixSeed(seed, hashString(request.cid), request.page, request.perPage, request.repeat, LATENCY_SALT),
  );
  // Always four draws, in this order, so changing one option never reshuffles the others.
  const u1 = random.next();
  const u2 = random.next();
  const tailHit = random.next() < options.tailShare;
  const tailPoint = random.next();
  const median = fakeLatencyMedianMs(options, request.notesOnPage);
  // Box–Muller; 1 − u1 is in (0, 1], so the log is finite.
  const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  const bodyMs = median * Math.exp(options.sigma * z);
  const tailMs = tailHit ? options.tailMinMs + tailPoint * (options.tailMaxMs - options.tailMinMs) : 0;
  const deepPageMs = options.deepPageMsPerPage * Math.max(0, request.page - 1);
  return { latencyMs: Math.round(bodyMs + tailMs + deepPageMs), bodyMs, tailMs, deepPageMs };
}
