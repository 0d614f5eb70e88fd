import { describe, expect, it } from 'vitest';

import { reconcileKind } from '../../../../src/migration/kinds/reconcile.js';
import { makeCrmNote, ok } from '../../../fixtures/builders.js';
import { compareHarness } from './crm-compare-harness.js';

const note = (id: string, text = `<p>${id}</p>`, extra: Parameters<typeof makeCrmNote>[0] = {}) =>
  makeCrmNote({ id, crmPersonId: `p${id}`, note: text, ...extra });

describe('reconcile kind: one page through the step', () => {
  it('judges each note against CDP in one lookup, records findings for all but ok, marks every CRM id seen, writes no note', async () => {
    const h = compareHarness({ contacts: ['p1', 'p2', 'p3', 'p5'], kind: 'reconcile' });
    h.migrated(note('1'));
    h.migrated(note('2'));
    h.migrated(note('3', '<p>3 before</p>'));
    const before = new Map(h.cdp);
    let lookups = 0;
    const find = h.deps.contactNotes.findStoredNotes;
    h.deps.contactNotes.findStoredNotes = (co, ids) => {
      lookups++;
      return find(co, ids);
    };
    const outcome = await h.crmPage(reconcileKind, [
      ok(note('1')), // ok
      ok(note('3')), // stale: CRM text changed
      ok(note('4')), // still failing: no contact for p4
      ok(note('5')), // missing
      ok(note('6', '<p>6</p>', { crmNoteTypeId: 9 })), // out of scope
      { ok: false, reasonCode: 'CRM_PAYLOAD_INVALID', legacyCrmNoteId: '7', details: { issues: [] } },
    ]);
    expect(lookups).toBe(1);
    expect(h.cdp).toEqual(before);
    expect([...h.seen].sort()).toEqual(['1', '3', '4', '5', '6', '7']);
    expect(outcome).toMatchObject({ seen: 6, outOfScope: 1, migrated: 0, skipped: 0, failed: 0 });
    expect(outcome.runFields?.reconcile).toMatchObject({
      ok: 1,
      stale: 1,
      still_failing: 2,
      missing: 1,
      orphan: 0,
    });
    expect(h.failures.map((f) => [f.legacyCrmNoteId, f.reasonCode]).sort()).toEqual([
      ['3', 'RECONCILE_STALE'],
      ['4', 'RECONCILE_STILL_FAILING'],
      ['5', 'RECONCILE_MISSING'],
      ['7', 'RECONCILE_STILL_FAILING'],
    ]);
    expect(h.failures.every((f) => f.kind === 'reconcile')).toBe(true);
  });

  it('reports a CDP legacy note CRM did not return as an orphan, in the orphan pass', async () => {
    const h = compareHarness({ contacts: ['p1', 'p2'], kind: 'reconcile' });
    h.migrated(note('1'));
    h.migrated(note('2'));
    await h.crmPage(reconcileKind, [ok(note('1'))]);
    const outcome = await h.orphanPage(reconcileKind, ['1', '2']);
    expect(outcome.runFields?.reconcile).toMatchObject({ orphan: 1 });
    expect(h.failures).toMatchObject([
      { legacyCrmNoteId: '2', reasonCode: 'RECONCILE_ORPHAN', details: { provenance: 'untouched' } },
    ]);
  });
});
