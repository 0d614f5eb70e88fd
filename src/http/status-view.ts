/**
 * What the API shows of a run: the status body (issue #7, DESIGN.md §6) and the run-history
 * entry. Pure: RunDoc in, JSON-ready object out (dates as ISO strings). A CID with no run is
 * `{status: "not_started"}` and nothing else.
 */
import type {
  DiagnosisDoc,
  RepairTotalsDoc,
  RollbackTotalsDoc,
  RunConfigStampDoc,
  RunDoc,
  RunOptionsDoc,
  VerdictTotalsDoc,
} from '../db/documents.js';
import { isTerminalStatus, type RunKind, runKindOf, type RunMode, type RunStatus } from '../domain.js';
import { type ForecastView, forecastViewOf } from '../migration/forecast.js';

export interface RunStatusBody {
  status: RunStatus;
  run_id: string;
  kind: RunKind;
  progress_pct: number;
  notes_processed: number;
  notes_total: number | null;
  notes_migrated: number;
  notes_skipped: number;
  notes_failed: number;
  out_of_scope_count: number;
  failure_rate: number;
  match_pct: number | null;
  started_at: string | null;
  updated_at: string;
  finished_at: string | null;
  halt_reason: string | null;
  error: { code: string; message: string } | null;
  /** Who asked for the run (absent before audit stamps existed: null). */
  triggered_by: string | null;
  /** What shaped it (DESIGN.md §11.9); null on runs stored before stamps existed. */
  config: RunConfigStampDoc | null;
  /** The run a rollback undoes; null for every other kind. */
  target_run_id: string | null;
  /** On a migrate or repair run: the rollback run that undid it. */
  rolled_back_by: string | null;
  /** Reconcile and repair runs: in-scope CRM notes by verdict, and orphans (DESIGN.md §11.5). */
  reconcile: VerdictTotalsDoc | null;
  /** Repair runs: notes inserted, replaced, and stale notes left because they changed meanwhile. */
  repair: RepairTotalsDoc | null;
  /** Rollback runs: notes deleted and kept, objects deleted (DESIGN.md §11.6). */
  rollback: RollbackTotalsDoc | null;
  /** Trigger options (`{}` when none). */
  options: RunOptionsDoc;
  /** Why it halted, when it halted (#13): cause, share, sample note ids, hint. */
  halt_diagnosis: DiagnosisDoc | null;
  /** A dry run's forecast so far (#13); null for other kinds. */
  forecast: ForecastView | null;
}

export type StatusView = RunStatusBody | { status: 'not_started' };

export interface RunHistoryEntry extends RunStatusBody {
  cid: string;
  company_sso_id: string;
  mode: RunMode;
  job_id: string | null;
  resumed_from_run_id: string | null;
  notes_with_warnings: number;
  notes_in_scope: number | null;
  checkpoint: { page: number; total_pages: number | null; cursor: string | null };
  cancel_requested: boolean;
  owner: string | null;
  closure: { balanced: boolean; accounted: number; unaccounted_count: number } | null;
  created_at: string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toStatusView(run: RunDoc | null): StatusView {
  return run ? toRunStatusBody(run) : { status: 'not_started' };
}

export function toRunStatusBody(run: RunDoc): RunStatusBody {
  return {
    status: run.status,
    run_id: run._id,
    kind: runKindOf(run),
    progress_pct: run.progress_pct,
    notes_processed: run.notes_processed,
    notes_total: run.notes_total,
    notes_migrated: run.notes_migrated,
    notes_skipped: run.notes_skipped,
    notes_failed: run.notes_failed,
    out_of_scope_count: run.out_of_scope_count,
    failure_rate: run.failure_rate,
    match_pct: run.match_pct,
    started_at: iso(run.started_at),
    updated_at: run.updated_at.toISOString(),
    finished_at: iso(run.finished_at),
    halt_reason: run.halt_reason,
    error: run.error ? { code: run.error.code, message: run.error.message } : null,
    triggered_by: run.triggered_by ?? null,
    config: run.config ?? null,
    target_run_id: run.target_run_id ?? null,
    rolled_back_by: run.rolled_back_by ?? null,
    reconcile: run.reconcile ?? null,
    repair: run.repair ?? null,
    rollback: run.rollback ?? null,
    options: run.options ?? {},
    halt_diagnosis: run.halt_diagnosis ?? null,
    forecast: forecastViewOf(run),
  };
}

export function toRunHistoryEntry(run: RunDoc): RunHistoryEntry {
  return {
    ...toRunStatusBody(run),
    cid: run.cid,
    company_sso_id: run.company_sso_id,
    mode: run.mode,
    job_id: run.job_id,
    resumed_from_run_id: run.resumed_from_run_id,
    notes_with_warnings: run.notes_with_warnings,
    notes_in_scope: run.notes_in_scope,
    checkpoint: {
      page: run.checkpoint.page,
      total_pages: run.checkpoint.total_pages,
      cursor: run.checkpoint.cursor ?? null,
    },
    cancel_requested: run.cancel_requested,
    owner: run.owner,
    closure: run.closure
      ? {
          balanced: run.closure.balanced,
          accounted: run.closure.accounted,
          unaccounted_count: run.closure.unaccounted_count,
        }
      : null,
    created_at: run.created_at.toISOString(),
  };
}

/** Has the stream of this status ended (a terminal run)? `not_started` is not terminal. */
export function isFinalStatus(view: StatusView): boolean {
  return view.status !== 'not_started' && isTerminalStatus(view.status);
}
