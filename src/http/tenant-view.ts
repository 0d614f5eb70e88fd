/**
 * What the tenant list shows of a CID (#17): its latest run's status body plus the figures an
 * operator scans for — notes/s, time left, and the hint of a halt. Pure: RunDoc in, JSON out; the
 * rate comes from the run's own page timeline, so a resumed run is not credited with the notes
 * of the run it continues.
 */
import type { PageTimelineEntryDoc, RunDoc } from '../db/documents.js';
import { isTerminalStatus } from '../domain.js';
import { type RunStatusBody, toRunStatusBody } from './status-view.js';

export interface TenantItem extends RunStatusBody {
  cid: string;
  company_sso_id: string;
  /** Notes per second over the newest pages (null before two pages, or for a finished run). */
  notes_per_s: number | null;
  /** Seconds left at that rate (null when the total or the rate is unknown, or the run ended). */
  eta_s: number | null;
  /** One line on why it halted or failed: the diagnosis hint (#13) when there is one. */
  hint: string | null;
  /** The figures formatted as the console shows them, so its live updates match the page. */
  display: TenantDisplay;
}

export interface TenantDisplay {
  status: string;
  progress: string;
  notes: string;
  migrated: string;
  skipped: string;
  failed: string;
  out_of_scope: string;
  rate: string;
  eta: string;
  failure_rate: string;
  match: string;
  updated: string;
}

/** What the console shows for a figure it does not have. */
export const NO_VALUE = '—';

const count = (n: number) => n.toLocaleString('en-US');
const percent = (fraction: number, digits = 2) => `${(fraction * 100).toFixed(digits)} %`;

/** `3 h 02 min`, `4 min 05 s`, `12 s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${s} s`;
}

/** `2026-12-01 10:40:09 UTC`: one zone for every operator, whatever their browser says. */
export function formatTime(iso: string | null): string {
  return iso === null ? NO_VALUE : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** A status as words (`completed_with_errors` → `completed with errors`): never a colour alone. */
export function statusLabel(status: string): string {
  return status.replaceAll('_', ' ');
}

export function displayOf(item: Omit<TenantItem, 'display'>): TenantDisplay {
  return {
    status: statusLabel(item.status),
    progress: `${item.progress_pct.toFixed(1)} %`,
    notes: `${count(item.notes_processed)} / ${item.notes_total === null ? '?' : count(item.notes_total)}`,
    migrated: count(item.notes_migrated),
    skipped: count(item.notes_skipped),
    failed: count(item.notes_failed),
    out_of_scope: count(item.out_of_scope_count),
    rate: item.notes_per_s === null ? NO_VALUE : `${item.notes_per_s.toFixed(1)} notes/s`,
    eta: item.eta_s === null ? NO_VALUE : formatDuration(item.eta_s),
    failure_rate: percent(item.failure_rate),
    match: item.match_pct === null ? NO_VALUE : percent(item.match_pct),
    updated: formatTime(item.updated_at),
  };
}

/** Notes/s between the oldest and newest of these timeline entries; null when undefined. */
export function notesPerSecond(timeline: readonly PageTimelineEntryDoc[]): number | null {
  const first = timeline[0];
  const last = timeline.at(-1);
  if (!first || !last || last === first) return null;
  const seconds = (last.at.getTime() - first.at.getTime()) / 1000;
  const notes = last.notes_processed - first.notes_processed;
  if (seconds <= 0 || notes < 0) return null;
  return Math.round((notes / seconds) * 10) / 10;
}

export function toTenantItem(run: RunDoc): TenantItem {
  const body = toRunStatusBody(run);
  const running = !isTerminalStatus(run.status);
  const rate = running ? notesPerSecond(run.page_timeline ?? []) : null;
  const left = run.notes_total === null ? null : Math.max(0, run.notes_total - run.notes_processed);
  const item = {
    ...body,
    cid: run.cid,
    company_sso_id: run.company_sso_id,
    notes_per_s: rate,
    eta_s: rate !== null && rate > 0 && left !== null ? Math.round(left / rate) : null,
    hint: hintOf(run),
  };
  return { ...item, display: displayOf(item) };
}

/** The halt diagnosis's hint when the run has one (#13), else the halt reason or the error message. */
function hintOf(run: RunDoc): string | null {
  return run.halt_diagnosis?.hint ?? run.halt_reason ?? run.error?.message ?? null;
}
