/**
 * The run's counters as pure arithmetic: adding a page, the failure rate, the progress.
 * `notes_processed` counts every note seen (in scope or not); the failure rate is over the
 * in-scope notes only (DESIGN.md §4).
 */
import type { RunCounters, RunDoc } from '../db/documents.js';

export interface PageTally {
  seen: number;
  migrated: number;
  skipped: number;
  failed: number;
  outOfScope: number;
  withWarnings: number;
}

export function addPage(counters: RunCounters, tally: PageTally, notesTotal: number | null): RunCounters {
  const next = {
    notes_total: notesTotal ?? counters.notes_total,
    notes_processed: counters.notes_processed + tally.seen,
    notes_migrated: counters.notes_migrated + tally.migrated,
    notes_skipped: counters.notes_skipped + tally.skipped,
    notes_failed: counters.notes_failed + tally.failed,
    notes_with_warnings: counters.notes_with_warnings + tally.withWarnings,
    out_of_scope_count: counters.out_of_scope_count + tally.outOfScope,
    progress_pct: 0,
    failure_rate: 0,
  };
  next.failure_rate = failureRate(next);
  next.progress_pct = progressPct(next.notes_processed, next.notes_total);
  return next;
}

export function failureRate(
  c: Pick<RunCounters, 'notes_failed' | 'notes_processed' | 'out_of_scope_count'>,
): number {
  const inScope = c.notes_processed - c.out_of_scope_count;
  return inScope > 0 ? c.notes_failed / inScope : 0;
}

/** Notes migrated with a loss ÷ in-scope processed (the rate MAX_WARNING_RATE limits, #13). */
export function warningRate(
  c: Pick<RunCounters, 'notes_with_warnings' | 'notes_processed' | 'out_of_scope_count'>,
): number {
  const inScope = c.notes_processed - c.out_of_scope_count;
  return inScope > 0 ? c.notes_with_warnings / inScope : 0;
}

/** Percent with one decimal, never above 100 (CRM can grow while a run reads it). */
export function progressPct(processed: number, total: number | null): number {
  if (total === null) return 0;
  if (total === 0) return 100;
  return Math.min(100, Math.round((processed / total) * 1000) / 10);
}

/** Halt only when the rate is strictly above the limit: exactly 1% of failures is tolerated. */
export function shouldHalt(counters: Pick<RunCounters, 'failure_rate'>, maxFailureRate: number): boolean {
  return counters.failure_rate > maxFailureRate;
}

/** The counters stored on a run document. */
export function countersOf(run: RunDoc): RunCounters {
  return {
    notes_total: run.notes_total,
    notes_processed: run.notes_processed,
    notes_migrated: run.notes_migrated,
    notes_skipped: run.notes_skipped,
    notes_failed: run.notes_failed,
    notes_with_warnings: run.notes_with_warnings,
    out_of_scope_count: run.out_of_scope_count,
    progress_pct: run.progress_pct,
    failure_rate: run.failure_rate,
  };
}
