/**
 * Fleet visibility for a wave (#16): from what the scheduler reads on each tick — the shared
 * budget document and its members' runs — the recent request rate, 429 rate and each running
 * member's notes/s, over a sliding window. In memory: a scheduler that takes over starts a new
 * window (the figures are null until it has two samples a second apart).
 */
import type { CrmBudgetDoc, WaveFleetDoc } from '../../db/documents.js';
import { ownValue } from '../../own-properties.js';

/** The window rates are measured over. */
export const FLEET_WINDOW_MS = 30_000;

interface Sample {
  atMs: number;
  value: number;
}

/** A sliding window of monotonic totals; the rate between its oldest and newest sample. */
function createRateWindow(windowMs: number) {
  const samples: Sample[] = [];
  return {
    add(atMs: number, value: number): void {
      samples.push({ atMs, value });
      while (samples.length > 2 && (samples[1]?.atMs ?? atMs) <= atMs - windowMs) samples.shift();
    },
    /** Per second, or null before two samples at least a second apart. */
    perSecond(): number | null {
      const first = samples[0];
      const last = samples.at(-1);
      if (!first || !last || last.atMs - first.atMs < 1_000) return null;
      return Math.max(0, (last.value - first.value) / ((last.atMs - first.atMs) / 1000));
    },
  };
}

export interface MemberRate {
  notesPerS: number | null;
}

export interface FleetSampler {
  /** Records this tick's budget counters and the processed notes of each active run. */
  sample(
    nowMs: number,
    budget: CrmBudgetDoc | null,
    runs: readonly { runId: string; processed: number }[],
  ): { fleet: WaveFleetDoc; members: ReadonlyMap<string, MemberRate> };
  /** 429s of one tenant from the last budget document seen (null without a budget). */
  rateLimitedOf(cid: string): number | null;
}

export function createFleetSampler(windowMs = FLEET_WINDOW_MS): FleetSampler {
  const requests = createRateWindow(windowMs);
  const rateLimited = createRateWindow(windowMs);
  const byRun = new Map<string, ReturnType<typeof createRateWindow>>();
  let lastBudget: CrmBudgetDoc | null = null;

  return {
    sample(nowMs, budget, runs) {
      lastBudget = budget;
      if (budget) {
        requests.add(nowMs, budget.requests_total);
        rateLimited.add(nowMs, budget.rate_limited_total);
      }
      const members = new Map<string, MemberRate>();
      const active = new Set(runs.map((r) => r.runId));
      for (const runId of [...byRun.keys()]) if (!active.has(runId)) byRun.delete(runId);
      let notesPerS: number | null = null;
      for (const run of runs) {
        let window = byRun.get(run.runId);
        if (!window) {
          window = createRateWindow(windowMs);
          byRun.set(run.runId, window);
        }
        window.add(nowMs, run.processed);
        const rate = window.perSecond();
        members.set(run.runId, { notesPerS: rate === null ? null : round(rate) });
        if (rate !== null) notesPerS = (notesPerS ?? 0) + rate;
      }
      const fleet: WaveFleetDoc = {
        sampled_at: new Date(nowMs),
        budget: budget
          ? {
              rate_per_s: round(budget.rate_per_s),
              cap_per_s: budget.cap_per_s,
              burst: budget.burst,
              paused_until: budget.paused_until_ms > nowMs ? new Date(budget.paused_until_ms) : null,
              requests_total: budget.requests_total,
              rate_limited_total: budget.rate_limited_total,
            }
          : null,
        requests_per_s: budget ? roundOrNull(requests.perSecond()) : null,
        rate_limited_per_s: budget ? roundOrNull(rateLimited.perSecond()) : null,
        notes_per_s: roundOrNull(notesPerS),
      };
      return { fleet, members };
    },
    rateLimitedOf(cid) {
      if (!lastBudget) return null;
      return ownValue(lastBudget.rate_limited_by_cid, cid) ?? 0;
    },
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
const roundOrNull = (n: number | null) => (n === null ? null : round(n));
