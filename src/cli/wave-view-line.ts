/**
 * One line for a wave as the CLI prints it (#16): state, canary gate, members done and running,
 * notes, throughput, the shared CRM budget and the ETA; a paused wave says why and lists its
 * members' diagnoses.
 */

import type { WaveMemberDiagnosisDoc } from '../db/documents.js';
import { ownValue } from '../own-properties.js';
import { diagnosisLine } from './forecast-report.js';

/** The parts of the wave body (GET /private/notes/waves/:id) the CLI shows. */
export interface WaveUpdate {
  wave_id: string;
  state: string;
  canary: { count: number; gate: string };
  counts: Record<string, number>;
  notes: { processed: number; total_known: number; total_estimated: number | null };
  throughput_notes_per_s: number | null;
  eta_seconds: number | null;
  pause: {
    cause: string;
    message: string;
    members: { cid: string; state: string; diagnosis: WaveMemberDiagnosisDoc | null }[];
  } | null;
  fleet: {
    budget: { rate_per_s: number; cap_per_s: number } | null;
    requests_per_s: number | null;
    rate_limited_per_s: number | null;
  } | null;
}

const DONE_STATES = [
  'completed_success',
  'completed_with_errors',
  'halted',
  'failed',
  'cancelled',
  'skipped',
];

export function formatWaveLine(w: WaveUpdate): string {
  const count = (s: string) => ownValue(w.counts, s) ?? 0;
  const done = DONE_STATES.reduce((n, s) => n + count(s), 0);
  const parts = [
    `wave ${w.wave_id.slice(0, 8)} ${w.state}`,
    `canary ${w.canary.gate}`,
    `${done}/${w.counts.members ?? 0} done (${count('running') + count('starting')} running, ${count('pending')} pending, ${count('halted') + count('failed')} halted/failed, ${count('skipped')} skipped)`,
    `notes ${w.notes.processed.toLocaleString('en-US')}/${(w.notes.total_estimated ?? w.notes.total_known).toLocaleString('en-US')}`,
  ];
  if (w.throughput_notes_per_s !== null) parts.push(`${w.throughput_notes_per_s} notes/s`);
  const fleet = w.fleet;
  if (fleet?.budget) {
    parts.push(
      `CRM budget ${fleet.budget.rate_per_s}/${fleet.budget.cap_per_s} req/s, ${fleet.requests_per_s ?? '?'} req/s sent, ${fleet.rate_limited_per_s ?? '?'} × 429/s`,
    );
  }
  if (w.eta_seconds !== null) parts.push(`ETA ${formatSeconds(w.eta_seconds)}`);
  let line = parts.join(' · ');
  if (w.state === 'paused' && w.pause) {
    line += `\n  paused (${w.pause.cause}): ${w.pause.message}`;
    for (const m of w.pause.members)
      line += `\n    CID ${m.cid} ${m.state}: ${memberDiagnosisLine(m.diagnosis)}`;
  }
  return line;
}

/** 0 when the wave completed with every member migrated or skipped; 1 otherwise (a run that did not complete). */
export function waveExitCode(w: WaveUpdate): number {
  const bad = ['completed_with_errors', 'halted', 'failed', 'cancelled'].some(
    (s) => (ownValue(w.counts, s) ?? 0) > 0,
  );
  return w.state === 'completed' && !bad ? 0 : 1;
}

/** Why a member stopped, in one line: the diagnosed cause and hint when there is one, else the halt reason or error. */
function memberDiagnosisLine(d: WaveMemberDiagnosisDoc | null): string {
  if (!d) return 'no diagnosis';
  const why = d.would_halt
    ? `a real run would halt on page ${d.would_halt.page} (${d.would_halt.reason})`
    : d.error
      ? `${d.error.code}: ${d.error.message}`
      : (d.halt_reason ?? 'stopped');
  return d.cause ? `${JSON.stringify(why)} · ${diagnosisLine(d.cause)}` : JSON.stringify(why);
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
