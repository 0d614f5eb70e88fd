import { describe, expect, it } from 'vitest';

import { EMPTY_COUNTERS } from '../../../src/db/runs-repository.js';
import { addPage, progressPct, shouldHalt } from '../../../src/migration/run-counters.js';
import { decideRunOutcome, matchPercentage } from '../../../src/migration/run-outcome.js';

const tally = (t: Partial<Parameters<typeof addPage>[1]>) => ({
  seen: 0,
  migrated: 0,
  skipped: 0,
  failed: 0,
  outOfScope: 0,
  withWarnings: 0,
  ...t,
});

describe('run counters', () => {
  it('adds pages and computes the failure rate over in-scope notes only', () => {
    let c = addPage(EMPTY_COUNTERS, tally({ seen: 100, migrated: 90, failed: 1, outOfScope: 9 }), 300);
    c = addPage(c, tally({ seen: 100, migrated: 100 }), 300);
    expect(c).toMatchObject({
      notes_total: 300,
      notes_processed: 200,
      notes_migrated: 190,
      notes_failed: 1,
      out_of_scope_count: 9,
    });
    expect(c.failure_rate).toBeCloseTo(1 / 191);
    expect(c.progress_pct).toBe(66.7);
  });

  it('halts at 1.5% (3 of 200) but not at exactly 1%', () => {
    expect(
      shouldHalt(addPage(EMPTY_COUNTERS, tally({ seen: 200, migrated: 197, failed: 3 }), 200), 0.01),
    ).toBe(true);
    expect(
      shouldHalt(addPage(EMPTY_COUNTERS, tally({ seen: 200, migrated: 198, failed: 2 }), 200), 0.01),
    ).toBe(false);
  });

  it('never reports more than 100% progress, and 100% for an empty tenant', () => {
    expect(progressPct(120, 100)).toBe(100);
    expect(progressPct(0, 0)).toBe(100);
    expect(progressPct(5, null)).toBe(0);
  });
});

describe('run outcome', () => {
  const counters = (c: Partial<typeof EMPTY_COUNTERS>) => ({ ...EMPTY_COUNTERS, ...c });

  it('succeeds at >= 99% match when the closure balances', () => {
    const out = decideRunOutcome({
      cdpLegacyNotes: 99,
      sourceTotal: 110,
      counters: counters({ notes_total: 110, notes_migrated: 99, notes_failed: 1, out_of_scope_count: 10 }),
      unaccountedIds: [],
      matchPctThreshold: 0.99,
    });
    expect(out).toMatchObject({ status: 'completed_success', matchPct: 0.99, notesInScope: 100 });
    expect(out.closure).toMatchObject({ balanced: true, accounted: 110, unaccounted_count: 0 });
  });

  it('ends with errors at 98% match', () => {
    const out = decideRunOutcome({
      cdpLegacyNotes: 98,
      sourceTotal: 100,
      counters: counters({ notes_total: 100, notes_migrated: 98, notes_failed: 2 }),
      unaccountedIds: [],
      matchPctThreshold: 0.99,
    });
    expect(out).toMatchObject({ status: 'completed_with_errors', matchPct: 0.98 });
  });

  it('skips validation and ends with errors when CRM cannot say how many notes it has', () => {
    const out = decideRunOutcome({
      cdpLegacyNotes: 100,
      sourceTotal: null,
      counters: counters({ notes_total: 100, notes_migrated: 100 }),
      unaccountedIds: [],
      matchPctThreshold: 0.99,
    });
    expect(out).toMatchObject({ status: 'completed_with_errors', matchPct: null, validationSkipped: true });
  });

  it('never succeeds when notes are unaccounted for, even at 100% match', () => {
    const out = decideRunOutcome({
      cdpLegacyNotes: 100,
      sourceTotal: 102,
      counters: counters({ notes_total: 102, notes_migrated: 100 }),
      unaccountedIds: [],
      matchPctThreshold: 0.98,
    });
    expect(out.status).toBe('completed_with_errors');
    expect(out.closure).toMatchObject({ balanced: false, accounted: 100, unaccounted_count: 2 });
  });

  it('treats a tenant with nothing in scope as a full match', () => {
    expect(matchPercentage(0, 0)).toBe(1);
    expect(matchPercentage(3, 0)).toBe(0);
  });
});
