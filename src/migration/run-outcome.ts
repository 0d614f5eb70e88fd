/**
 * How a run ends (DESIGN.md §4, issue #6 "Validation and closure"), as pure decisions:
 * match_pct, the closure of notes_total over the buckets, and the terminal status.
 * A run can only end `completed_success` when validation ran and the closure balances.
 */
import type { RunClosureDoc, RunCounters } from '../db/documents.js';
import type { TerminalRunStatus } from '../domain.js';

export interface ValidationInput {
  /** CDP count of the company's migrated notes. */
  cdpLegacyNotes: number;
  /** CRM's total for the CID at the end of the run; null when CRM could not say. */
  sourceTotal: number | null;
  counters: RunCounters;
  /** Ids the pipeline could not place in any bucket (a sample). */
  unaccountedIds: readonly string[];
  matchPctThreshold: number;
}

export interface RunOutcome {
  status: Extract<TerminalRunStatus, 'completed_success' | 'completed_with_errors'>;
  matchPct: number | null;
  notesInScope: number | null;
  closure: RunClosureDoc;
  validationSkipped: boolean;
}

const MAX_UNACCOUNTED_IDS_STORED = 100;

export function decideRunOutcome(input: ValidationInput): RunOutcome {
  const c = input.counters;
  const accounted = c.notes_migrated + c.notes_skipped + c.out_of_scope_count + c.notes_failed;
  const total = input.sourceTotal ?? c.notes_total;
  const unaccountedCount =
    total === null ? input.unaccountedIds.length : Math.max(total - accounted, input.unaccountedIds.length);
  const closure: RunClosureDoc = {
    balanced: total !== null && accounted === total && input.unaccountedIds.length === 0,
    notes_total: total,
    accounted,
    unaccounted_ids: input.unaccountedIds.slice(0, MAX_UNACCOUNTED_IDS_STORED),
    unaccounted_count: unaccountedCount,
  };
  if (input.sourceTotal === null) {
    return {
      status: 'completed_with_errors',
      matchPct: null,
      notesInScope: null,
      closure,
      validationSkipped: true,
    };
  }
  const notesInScope = Math.max(0, input.sourceTotal - c.out_of_scope_count);
  const matchPct = matchPercentage(input.cdpLegacyNotes, notesInScope);
  const success = matchPct >= input.matchPctThreshold && closure.balanced;
  return {
    status: success ? 'completed_success' : 'completed_with_errors',
    matchPct,
    notesInScope,
    closure,
    validationSkipped: false,
  };
}

/** CDP ÷ in-scope CRM, as a fraction rounded to 4 decimals; nothing to migrate counts as a full match. */
export function matchPercentage(cdpLegacyNotes: number, inScopeCrmNotes: number): number {
  if (inScopeCrmNotes === 0) return cdpLegacyNotes === 0 ? 1 : 0;
  return Math.round((cdpLegacyNotes / inScopeCrmNotes) * 10_000) / 10_000;
}
