import { describe, expect, it } from 'vitest';

import { repairKind } from '../../../../src/migration/kinds/repair.js';
import { makeCrmNote, ok } from '../../../fixtures/builders.js';
import { compareHarness } from './crm-compare-harness.js';

const file = { url: 'https://crm/f.pdf', fileName: 'f.pdf', contentType: 'application/pdf', size: 1 };
const note = (id: string, text = `<p>${id}</p>`, attachments = [file]) =>
  makeCrmNote({ id, crmPersonId: `p${id}`, note: text, attachments });

describe('repair kind: one page through the step', () => {
  it('inserts missing notes and replaces stale ones with its provenance, uploading only their attachments; leaves edited notes', async () => {
    const h = compareHarness({ contacts: ['p1', 'p2', 'p3', 'p4'], kind: 'repair' });
    h.migrated(note('1'));
    h.migrated(note('2', '<p>2 before</p>'));
    h.migrated(note('3'));
    h.cdp.set('3', { ...h.cdp.get('3')!, note: '<p>3 edited in CDP</p>' });
    const outcome = await h.crmPage(repairKind, [ok(note('1')), ok(note('2')), ok(note('3')), ok(note('4'))]);
    expect(h.uploads.sort()).toEqual(['2', '4']);
    expect(h.cdp.get('4')).toMatchObject({ legacy_migration_run_id: 'repair-run', note: '<p>4</p>' });
    expect(h.cdp.get('2')).toMatchObject({ legacy_migration_run_id: 'repair-run', note: '<p>2</p>' });
    expect(h.cdp.get('2')?.legacy_replaced_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(h.cdp.get('3')?.note).toBe('<p>3 edited in CDP</p>');
    expect(outcome).toMatchObject({ seen: 4, migrated: 2, skipped: 2, failed: 0 });
    expect(outcome.runFields).toMatchObject({
      repair: { inserted: 1, replaced: 1, replace_skipped: 0 },
      reconcile: { ok: 1, stale: 1, missing: 1, edited_in_cdp: 1 },
    });
    // What it wrote carries the warnings a migration records (no SSO user for the creators here).
    expect(h.failures.map((f) => [f.legacyCrmNoteId, f.reasonCode]).sort()).toEqual([
      ['2', 'OWNER_NOT_MAPPED'],
      ['3', 'RECONCILE_EDITED_IN_CDP'],
      ['4', 'OWNER_NOT_MAPPED'],
    ]);
  });

  it('never swaps a stale note for a version that lost an attachment; a missing one is inserted as a migration would', async () => {
    const h = compareHarness({ contacts: ['p1', 'p2'], kind: 'repair', uploadFails: ['1', '2'] });
    h.migrated(note('1', '<p>1 before</p>'));
    const stored = h.cdp.get('1');
    const outcome = await h.crmPage(repairKind, [ok(note('1')), ok(note('2'))]);
    expect(h.cdp.get('1')).toBe(stored);
    expect(h.cdp.get('2')).toMatchObject({ attachments: [] });
    expect(outcome.runFields).toMatchObject({ repair: { inserted: 1, replaced: 0, replace_skipped: 1 } });
    expect(outcome).toMatchObject({ migrated: 1, skipped: 1, failed: 0, withWarnings: 1 });
    expect(h.failures.map((f) => [f.legacyCrmNoteId, f.reasonCode]).sort()).toEqual([
      ['1', 'REPAIR_REPLACE_SKIPPED'],
      ['2', 'ATTACHMENT_UPLOAD_FAILED'],
      ['2', 'OWNER_NOT_MAPPED'],
    ]);
  });

  it('counts a note CRM returns on two pages once: from the other page it is a duplicate that compares ok', async () => {
    const h = compareHarness({ contacts: ['p1', 'p2'], kind: 'repair' });
    h.migrated(note('1', '<p>1 before</p>'));
    await h.crmPage(repairKind, [ok(note('1')), ok(note('2'))], 1);
    expect(h.cdp.get('1')).toMatchObject({ legacy_migration_run_id: 'repair-run', legacy_migration_page: 1 });
    expect(h.cdp.get('2')).toMatchObject({ legacy_migration_run_id: 'repair-run', legacy_migration_page: 1 });
    const uploadsBefore = h.uploads.length;
    const again = await h.crmPage(repairKind, [ok(note('1')), ok(note('2'))], 3);
    expect(h.uploads.length).toBe(uploadsBefore);
    expect(again).toMatchObject({ migrated: 0, skipped: 2, failed: 0 });
    expect(again.runFields).toMatchObject({
      repair: { inserted: 0, replaced: 0 },
      reconcile: { ok: 2, missing: 0, stale: 0 },
    });
  });

  it('counts notes it wrote before a crash as its own on the replayed page, without writing them again', async () => {
    const h = compareHarness({ contacts: ['p1', 'p2'], kind: 'repair' });
    h.migrated(note('1', '<p>1 before</p>'));
    await h.crmPage(repairKind, [ok(note('1')), ok(note('2'))]);
    const uploadsBefore = h.uploads.length;
    const replay = await h.crmPage(repairKind, [ok(note('1')), ok(note('2'))]);
    expect(h.uploads.length).toBe(uploadsBefore);
    expect(replay).toMatchObject({ migrated: 2, skipped: 0 });
    expect(replay.runFields).toMatchObject({
      repair: { inserted: 1, replaced: 1 },
      reconcile: { missing: 1, stale: 1 },
    });
  });
});
