/**
 * Counters of the fake CRM's notes endpoint for benchmarks and tests (#15), served on the
 * fake-only `GET /_fake/counters`. Tokens appear by a fingerprint, never by their value.
 */
import { createHash } from 'node:crypto';

import { countOwn, ownEntry } from '../../own-properties.js';
import type { FakeCrmBehaviourPreset } from './fake-crm-behaviour.js';
import type { FakeRateLimitWindowName } from './fake-rate-limiter.js';

export interface FakeCrmRequestTally {
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** 429 answers, whatever the reason (quota, burst, concurrency, an injected fault). */
  rateLimited: number;
}

export interface FakeCrmPeakGauge {
  now: number;
  peak: number;
}

export interface FakeCrmCountersSnapshot {
  behaviour: FakeCrmBehaviourPreset;
  /** Since the server started or the counters were last reset, by the server's clock. */
  elapsedMs: number;
  /** Notes requests (the probe included), whatever their answer. */
  requests: number;
  ok: number;
  rateLimited: number;
  /** 503 answers. */
  unavailable: number;
  /** Answers by status; `0` counts connections dropped before any header. */
  byStatus: Record<string, number>;
  /** Refusals by the behaviour (not by injected faults): which window, or the concurrency cap. */
  refused: Record<FakeRateLimitWindowName | 'concurrency', number>;
  /** Notes requests open at the server (queued or served). */
  inFlight: FakeCrmPeakGauge;
  /** Notes requests holding one of the `servedAtOnce` slots (equals inFlight when there is no cap). */
  serving: FakeCrmPeakGauge;
  /** Notes requests waiting for a slot. */
  queued: FakeCrmPeakGauge;
  latency: { draws: number; tails: number; totalMs: number };
  notesServed: number;
  fileRequests: number;
  /** By `fakeCrmTokenLabel(Authorization)`. */
  byToken: Record<string, FakeCrmRequestTally>;
  byCid: Record<string, FakeCrmRequestTally & { notesServed: number }>;
}

/** How a token shows in the counters: `anonymous`, or the first 12 hex digits of its SHA-256. */
export function fakeCrmTokenLabel(authorization: string | undefined): string {
  if (authorization === undefined || authorization === '') return 'anonymous';
  return `sha256:${createHash('sha256').update(authorization).digest('hex').slice(0, 12)}`;
}

export interface FakeCrmCounters {
  notesArrived(cid: string, token: string): void;
  notesFinished(cid: string, token: string, status: number): void;
  /** A page of `count` notes was streamed to the end. */
  notesServed(cid: string, count: number): void;
  refused(reason: FakeRateLimitWindowName | 'concurrency'): void;
  slotsChanged(serving: number, queued: number): void;
  latencyDrawn(latencyMs: number, tail: boolean): void;
  fileRequested(): void;
  snapshot(): FakeCrmCountersSnapshot;
  /** Zeroes everything; gauges keep their current value, peaks restart from it. */
  reset(): void;
}

export function createFakeCrmCounters(
  behaviour: FakeCrmBehaviourPreset,
  nowMs: () => number,
  hasConcurrencyCap: boolean,
): FakeCrmCounters {
  const gauge = (now = 0): FakeCrmPeakGauge => ({ now, peak: now });
  const fresh = (prev?: FakeCrmCountersSnapshot): FakeCrmCountersSnapshot => ({
    behaviour,
    elapsedMs: 0,
    requests: 0,
    ok: 0,
    rateLimited: 0,
    unavailable: 0,
    byStatus: {},
    refused: { quota: 0, burst: 0, concurrency: 0 },
    inFlight: gauge(prev?.inFlight.now),
    serving: gauge(prev?.serving.now),
    queued: gauge(prev?.queued.now),
    latency: { draws: 0, tails: 0, totalMs: 0 },
    notesServed: 0,
    fileRequests: 0,
    byToken: {},
    byCid: {},
  });
  let startedAtMs = nowMs();
  let c = fresh();
  const set = (g: FakeCrmPeakGauge, value: number) => {
    g.now = value;
    g.peak = Math.max(g.peak, value);
  };
  // CIDs and tokens come from requests: own properties only, so `__proto__` is just a key.
  const cidTally = (cid: string) =>
    ownEntry(c.byCid, cid, () => ({ requests: 0, ok: 0, rateLimited: 0, notesServed: 0 }));
  const tallies = (cid: string, token: string) => ({
    token: ownEntry(c.byToken, token, () => ({ requests: 0, ok: 0, rateLimited: 0 })),
    cid: cidTally(cid),
  });

  return {
    notesArrived(cid, token) {
      c.requests++;
      const t = tallies(cid, token);
      t.token.requests++;
      t.cid.requests++;
      set(c.inFlight, c.inFlight.now + 1);
      if (!hasConcurrencyCap) set(c.serving, c.inFlight.now);
    },
    notesFinished(cid, token, status) {
      set(c.inFlight, Math.max(0, c.inFlight.now - 1));
      if (!hasConcurrencyCap) set(c.serving, c.inFlight.now);
      countOwn(c.byStatus, String(status));
      const t = tallies(cid, token);
      if (status >= 200 && status < 300) {
        c.ok++;
        t.token.ok++;
        t.cid.ok++;
      } else if (status === 429) {
        c.rateLimited++;
        t.token.rateLimited++;
        t.cid.rateLimited++;
      } else if (status === 503) {
        c.unavailable++;
      }
    },
    notesServed(cid, count) {
      c.notesServed += count;
      cidTally(cid).notesServed += count;
    },
    refused: (reason) => void c.refused[reason]++,
    slotsChanged(serving, queued) {
      set(c.serving, serving);
      set(c.queued, queued);
    },
    latencyDrawn(latencyMs, tail) {
      c.latency.draws++;
      c.latency.totalMs += latencyMs;
      if (tail) c.latency.tails++;
    },
    fileRequested: () => void c.fileRequests++,
    snapshot: () => ({ ...structuredClone(c), elapsedMs: Math.round(nowMs() - startedAtMs) }),
    reset() {
      c = fresh(c);
      startedAtMs = nowMs();
    },
  };
}
