/**
 * The crash test's check of a finished run, for any test that migrates a fake tenant end to end:
 * no duplicate in CDP, exactly the planted notes migrated, counters and failure records equal to
 * what the generator planted.
 */
import { expect } from 'vitest';

import type { FakeTenantPlan } from '../../src/crm/fake/fake-tenant-plan.js';
import type { RunDoc } from '../../src/db/documents.js';
import type { TestDb } from './test-db.js';

export async function expectExactOutcome(
  t: TestDb,
  run: RunDoc,
  plan: FakeTenantPlan,
  companySsoId: string,
): Promise<void> {
  const notes = t.collections.contactNotes;
  const dupes = await notes
    .aggregate([
      { $match: { company_sso_id: companySsoId } },
      { $group: { _id: '$legacy_crm_note_id', n: { $sum: 1 } } },
      { $match: { n: { $gt: 1 } } },
    ])
    .toArray();
  expect(dupes, companySsoId).toEqual([]);
  const inCdp = await notes.countDocuments({
    company_sso_id: companySsoId,
    legacy_crm_note_id: { $exists: true },
  });
  expect(inCdp, companySsoId).toBe(plan.expectedMigrated);
  expect(run, companySsoId).toMatchObject({
    status: 'completed_success',
    notes_total: plan.notesTotal,
    notes_processed: plan.notesTotal,
    notes_migrated: plan.expectedMigrated,
    notes_skipped: 0,
    notes_failed: plan.expectedFailed,
    out_of_scope_count: plan.outOfScope,
    closure: { balanced: true },
  });
  const failures = t.collections.failures;
  expect(await failures.countDocuments({ run_id: run._id, severity: 'failure' }), companySsoId).toBe(
    plan.expectedFailed,
  );
  const byReason = await t.repos.failures.countByReason(run._id);
  for (const [code, n] of Object.entries({ ...plan.failures, ...plan.warnings })) {
    expect(byReason[code as keyof typeof byReason] ?? 0, `${companySsoId} ${code}`).toBe(n);
  }
}
