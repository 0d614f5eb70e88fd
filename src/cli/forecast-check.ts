/**
 * Did the real run report what its dry run forecast (DESIGN.md §11.3, #13)? Figure by figure:
 * counts by outcome and by reason code, failure rate, match_pct, terminal status, halt page and
 * cause — the forecast at the halt when it predicted one. Timings are not compared. Pure.
 */
import type { RunDoc } from '../db/documents.js';
import type { ReasonCode } from '../domain.js';
import { problemTallyOf } from '../migration/problem-tally.js';

export interface ForecastCheck {
  what: string;
  forecast: string | number | null;
  observed: string | number | null;
  ok: boolean;
}

export function compareForecastWithRun(
  dryRun: RunDoc,
  realRun: RunDoc,
  /** The real run's failure log by reason code. */
  observedByReason: Partial<Record<ReasonCode, number>>,
): ForecastCheck[] {
  const f = dryRun.forecast;
  if (!f?.outcome) return [{ what: 'forecast complete', forecast: null, observed: null, ok: false }];
  const halt = f.would_halt;
  const predicted = halt
    ? { ...halt.at_halt, problems: halt.at_halt.problems_by_reason }
    : {
        notes_processed: dryRun.notes_processed,
        notes_migrated: dryRun.notes_migrated,
        notes_skipped: dryRun.notes_skipped,
        notes_failed: dryRun.notes_failed,
        notes_with_warnings: dryRun.notes_with_warnings,
        out_of_scope_count: dryRun.out_of_scope_count,
        failure_rate: dryRun.failure_rate,
        problems: problemTallyOf(dryRun).by_reason,
      };
  const same = (what: string, a: string | number | null, b: string | number | null): ForecastCheck => ({
    what,
    forecast: a,
    observed: b,
    ok: typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) < 1e-9 : a === b,
  });
  const codes = new Set([
    ...Object.keys(predicted.problems),
    ...Object.keys(observedByReason),
  ]) as Set<ReasonCode>;
  return [
    same('status', f.outcome.status, realRun.status),
    same('halt page', f.outcome.halt_page, realRun.status === 'halted' ? realRun.checkpoint.page : null),
    same(
      'halt cause',
      halt?.diagnosis?.reason_code ?? null,
      realRun.status === 'halted' ? (realRun.halt_diagnosis?.reason_code ?? null) : null,
    ),
    same('match_pct', f.outcome.match_pct, realRun.match_pct),
    same('notes_processed', predicted.notes_processed, realRun.notes_processed),
    same('notes_migrated', predicted.notes_migrated, realRun.notes_migrated),
    same('notes_skipped', predicted.notes_skipped, realRun.notes_skipped),
    same('notes_failed', predicted.notes_failed, realRun.notes_failed),
    same('notes_with_warnings', predicted.notes_with_warnings, realRun.notes_with_warnings),
    same('out_of_scope_count', predicted.out_of_scope_count, realRun.out_of_scope_count),
    same('failure_rate', predicted.failure_rate, realRun.failure_rate),
    ...[...codes]
      .sort()
      .map((code) => same(code, predicted.problems[code] ?? 0, observedByReason[code] ?? 0)),
  ];
}
