/**
 * Applies a `FakeCrmBehaviour` to live requests: the rate limit and the concurrency cap in front
 * of the notes endpoint, the drawn latency before an answer, and the counters. The server keeps
 * the contract (routes, auth, faults, pages); this module only decides when and whether to answer.
 */
import type { ServerResponse } from 'node:http';

import { createFakeConcurrencyGate, type ReleaseSlot } from './fake-concurrency-gate.js';
import type { FakeCrmBehaviour } from './fake-crm-behaviour.js';
import type { FakeCrmClock } from './fake-crm-clock.js';
import { createFakeCrmCounters, type FakeCrmCounters } from './fake-crm-counters.js';
import { sendJson } from './fake-http-io.js';
import { drawFakeLatency, type FakeLatencyRequest, isFakeLatencyOff } from './fake-latency-model.js';
import { createFakeRateLimiter } from './fake-rate-limiter.js';

export interface AdmittedNotesRequest {
  /** `RateLimit-*` headers for the answer (empty without a rate limit). */
  headers: Record<string, string>;
  /** Frees the concurrency slot; call once the answer is done (idempotent). */
  release: ReleaseSlot;
}

export type FakeCrmResetScope = 'counters' | 'all';

export interface FakeCrmBehaviourRuntime {
  readonly behaviour: FakeCrmBehaviour;
  readonly counters: FakeCrmCounters;
  /** Rate limit, then concurrency cap. On a refusal it answers itself and returns null. */
  admitNotes(res: ServerResponse, token: string, signal: AbortSignal): Promise<AdmittedNotesRequest | null>;
  /** Waits this answer's drawn latency; resolves the drawn ms, or null when the wait was cut short. */
  waitNotesLatency(request: Omit<FakeLatencyRequest, 'repeat'>, signal: AbortSignal): Promise<number | null>;
  /** False when the wait was cut short. Files are instant unless `latency.applyToFiles`. */
  waitFileLatency(cid: string, noteId: number, slot: number, signal: AbortSignal): Promise<boolean>;
  /** `counters`: zero the counters. `all`: also forget rate windows and draw repeats (as if restarted). */
  reset(scope: FakeCrmResetScope): void;
}

const NOT_ADMITTED = null;

export function createFakeCrmBehaviourRuntime(
  behaviour: FakeCrmBehaviour,
  clock: FakeCrmClock,
): FakeCrmBehaviourRuntime {
  const { latency, concurrency } = behaviour;
  const hasCap = concurrency.servedAtOnce > 0;
  const counters = createFakeCrmCounters(behaviour.preset, () => clock.nowMs(), hasCap);
  const limiter = createFakeRateLimiter(behaviour.rateLimit);
  const gate = hasCap
    ? createFakeConcurrencyGate(concurrency.servedAtOnce, concurrency.maxQueued, (serving, queued) =>
        counters.slotsChanged(serving, queued),
      )
    : null;
  const latencyOff = isFakeLatencyOff(latency);
  // How often each (cid, page, per_page) was drawn for: a retry gets a fresh draw, not the same tail again.
  const repeats = new Map<string, number>();
  const nextRepeat = (key: string) => {
    const n = repeats.get(key) ?? 0;
    repeats.set(key, n + 1);
    return n;
  };

  async function admitNotes(res: ServerResponse, token: string, signal: AbortSignal) {
    const decision = limiter?.check(token, clock.nowMs());
    const headers = decision?.headers ?? {};
    if (decision && !decision.allowed && decision.refusedBy) {
      counters.refused(decision.refusedBy);
      const { windowMs, windowLimit, perSecondLimit, policyName } = behaviour.rateLimit;
      const [limit, perMs] =
        decision.refusedBy === 'quota' ? [windowLimit, windowMs] : [perSecondLimit, 1000];
      sendJson(
        res,
        429,
        {
          error: 'rate_limited',
          reason: decision.refusedBy,
          policyName: decision.refusedBy === 'quota' ? policyName : 'SECONDLY',
          message: `more than ${limit} requests per ${perMs / 1000} s for this token; retry after ${headers['retry-after']} s`,
        },
        headers,
      );
      return NOT_ADMITTED;
    }
    if (!gate) return { headers, release: () => {} };
    const entered = gate.tryEnter(signal);
    if (!entered) {
      counters.refused('concurrency');
      const status = concurrency.overflowStatus;
      sendJson(
        res,
        status,
        {
          error: status === 429 ? 'rate_limited' : 'overloaded',
          reason: 'concurrency',
          policyName: 'CONCURRENCY',
          message: `${concurrency.servedAtOnce} requests served and ${concurrency.maxQueued} queued already; retry after 1 s`,
        },
        { ...headers, 'retry-after': '1' },
      );
      return NOT_ADMITTED;
    }
    const release = await entered;
    return release ? { headers, release } : NOT_ADMITTED;
  }

  async function waitNotesLatency(request: Omit<FakeLatencyRequest, 'repeat'>, signal: AbortSignal) {
    if (latencyOff) return 0;
    const repeat = nextRepeat(`${request.cid}\u0000${request.page}\u0000${request.perPage}`);
    const draw = drawFakeLatency(latency, behaviour.seed, { ...request, repeat });
    counters.latencyDrawn(draw.latencyMs, draw.tailMs > 0);
    return (await clock.sleep(draw.latencyMs, signal)) ? draw.latencyMs : null;
  }

  async function waitFileLatency(cid: string, noteId: number, slot: number, signal: AbortSignal) {
    if (!latency.applyToFiles || latencyOff) return true;
    const request = { cid: `files:${cid}`, page: noteId, perPage: slot, notesOnPage: 0 };
    const draw = drawFakeLatency({ ...latency, deepPageMsPerPage: 0 }, behaviour.seed, {
      ...request,
      repeat: nextRepeat(`${request.cid}\u0000${noteId}\u0000${slot}`),
    });
    return clock.sleep(draw.latencyMs, signal);
  }

  return {
    behaviour,
    counters,
    admitNotes,
    waitNotesLatency,
    waitFileLatency,
    reset(scope) {
      counters.reset();
      if (scope === 'all') {
        limiter?.reset();
        repeats.clear();
      }
    },
  };
}
