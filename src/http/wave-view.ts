/**
 * What the API shows of a wave (#16): members with state and run, the canary gate, counts, notes
 * done and total, throughput, ETA, the pause and its members' diagnoses, and the fleet (shared
 * budget rate, requests/s, 429s). Pure: WaveDoc in, JSON-ready object out (dates as ISO strings).
 */
import type { WaveDoc, WaveMemberDoc } from '../db/documents.js';
import { WAVE_MEMBER_STATES, type WaveMemberState } from '../domain.js';
import { canaryGateOf } from '../migration/waves/wave-rules.js';

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

function memberView(m: WaveMemberDoc) {
  return {
    cid: m.cid,
    company_sso_id: m.company_sso_id,
    state: m.state,
    canary: m.canary,
    run_id: m.run_id,
    run_ids: m.run_ids,
    attempts: m.attempts,
    reason: m.reason,
    retry_at: iso(m.retry_at),
    diagnosis: m.diagnosis ?? null,
    progress_pct: m.progress_pct,
    notes_processed: m.notes_processed,
    notes_total: m.notes_total,
    notes_per_s: m.notes_per_s,
    crm_rate_limited: m.crm_rate_limited,
    started_at: iso(m.started_at),
    finished_at: iso(m.finished_at),
  };
}

export type WaveMemberView = ReturnType<typeof memberView>;

function countsOf(members: readonly WaveMemberDoc[]): Record<WaveMemberState, number> {
  const counts = Object.fromEntries(WAVE_MEMBER_STATES.map((s) => [s, 0])) as Record<WaveMemberState, number>;
  for (const m of members) counts[m.state] += 1;
  return counts;
}

/** Notes done, the totals known so far, and an estimate for members whose total is not known yet. */
function notesOf(members: readonly WaveMemberDoc[]) {
  const counted = members.filter((m) => m.state !== 'skipped' && m.reason?.code !== 'WAVE_CANCELLED');
  const known = counted.filter((m) => m.notes_total !== null);
  const totalKnown = known.reduce((n, m) => n + (m.notes_total ?? 0), 0);
  const unknown = counted.length - known.length;
  const estimated =
    known.length === 0 ? null : Math.round(totalKnown + (totalKnown / known.length) * unknown);
  return {
    processed: counted.reduce((n, m) => n + m.notes_processed, 0),
    total_known: totalKnown,
    members_with_unknown_total: unknown,
    total_estimated: estimated,
  };
}

export function toWaveView(wave: WaveDoc, now: Date) {
  const notes = notesOf(wave.members);
  const rate = wave.fleet?.notes_per_s ?? null;
  const remaining =
    notes.total_estimated === null ? null : Math.max(0, notes.total_estimated - notes.processed);
  const ended = wave.state === 'completed' || wave.state === 'cancelled';
  return {
    wave_id: wave._id,
    kind: wave.kind,
    state: wave.state,
    canary: {
      count: wave.canary,
      gate: canaryGateOf(wave),
      members: wave.members.filter((m) => m.canary).map((m) => m.cid),
    },
    max_parallel_tenants: wave.max_parallel_tenants,
    stop_after_failed_tenants: wave.stop_after_failed_tenants,
    generation: wave.generation,
    counts: { members: wave.members.length, ...countsOf(wave.members) },
    notes,
    throughput_notes_per_s: ended ? null : rate,
    eta_seconds: ended || !rate || remaining === null ? null : Math.round(remaining / rate),
    pause: wave.pause
      ? { ...wave.pause, at: wave.pause.at.toISOString(), members: wave.pause.members }
      : null,
    cancel: wave.cancel ? { by: wave.cancel.by, at: wave.cancel.at.toISOString() } : null,
    scheduler: {
      owner: wave.scheduler.owner,
      live: wave.scheduler.owner !== null && wave.scheduler.expires_at.getTime() > now.getTime(),
      expires_at: iso(wave.scheduler.expires_at),
    },
    fleet: wave.fleet
      ? {
          ...wave.fleet,
          sampled_at: wave.fleet.sampled_at.toISOString(),
          budget: wave.fleet.budget
            ? { ...wave.fleet.budget, paused_until: iso(wave.fleet.budget.paused_until) }
            : null,
        }
      : null,
    created_by: wave.created_by,
    created_at: wave.created_at.toISOString(),
    updated_at: wave.updated_at.toISOString(),
    finished_at: iso(wave.finished_at),
    members: wave.members.map(memberView),
  };
}

export type WaveView = ReturnType<typeof toWaveView>;

/** A summary line of the wave list (no members). */
export function toWaveSummary(wave: Omit<WaveDoc, 'members'>) {
  return {
    wave_id: wave._id,
    kind: wave.kind,
    state: wave.state,
    generation: wave.generation,
    created_by: wave.created_by,
    created_at: wave.created_at.toISOString(),
    finished_at: iso(wave.finished_at),
  };
}
