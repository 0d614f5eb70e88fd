import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';

import type { StoredNoteDoc } from '../../../src/db/contact-notes-provenance.js';
import { RECONCILE_VERDICTS, VERDICT_CODES } from '../../../src/domain.js';
import { fingerprintOf } from '../../../src/migration/note-fingerprint.js';
import {
  addVerdicts,
  emptyVerdictTotals,
  findingOf,
  verdictOf,
  type WouldWrite,
} from '../../../src/migration/reconcile-verdict.js';

const migrated = {
  note: '<p>as migrated</p>',
  contact_id: 'c1',
  owner_id: 'sso-1' as string | null,
  attachments: [],
  created_at: new Date('2020-01-01T00:00:00.000Z'),
  updated_at: new Date('2020-01-02T00:00:00.000Z'),
};
const MIGRATED_FP = fingerprintOf(migrated);
const CRM_NOW_FP = fingerprintOf({ ...migrated, note: '<p>edited in CRM</p>' });

function stored(overrides: Partial<StoredNoteDoc> = {}): StoredNoteDoc {
  return {
    _id: new ObjectId('0123456789abcdef01234567'),
    legacy_crm_note_id: '7',
    legacy_migration_run_id: 'run-m',
    legacy_fingerprint: MIGRATED_FP,
    ...migrated,
    ...overrides,
  };
}
const writes = (fingerprint: string): WouldWrite => ({ fingerprint });
const fails: WouldWrite = {
  failure: { noteId: '7', reasonCode: 'CONTACT_NOT_MAPPED', details: { reason: 'x' } },
};
const editedInCdp = { note: '<p>edited in CDP</p>' };

describe('reconcile verdicts (DESIGN.md §11.5)', () => {
  it.each([
    ['ok: CDP untouched, CRM unchanged', stored(), writes(MIGRATED_FP), 'ok'],
    ['missing: not in CDP', null, writes(CRM_NOW_FP), 'missing'],
    ['stale: CDP untouched, CRM changed', stored(), writes(CRM_NOW_FP), 'stale'],
    ['edited_in_cdp: CDP changed, CRM did not', stored(editedInCdp), writes(MIGRATED_FP), 'edited_in_cdp'],
    ['conflict: both changed', stored(editedInCdp), writes(CRM_NOW_FP), 'conflict'],
    ['still_failing: a migration would fail now (not in CDP)', null, fails, 'still_failing'],
    ['still_failing: a migration would fail now (in CDP)', stored(), fails, 'still_failing'],
    [
      'no_provenance: no fingerprint, even when the fields match',
      stored({ legacy_fingerprint: undefined, legacy_migration_run_id: undefined }),
      writes(MIGRATED_FP),
      'no_provenance',
    ],
    [
      'ok: edited in CDP to exactly what a migration writes now',
      stored({ note: '<p>edited in CRM</p>' }),
      writes(CRM_NOW_FP),
      'ok',
    ],
  ] as const)('%s', (_name, note, now, verdict) => {
    expect(verdictOf(note, now)).toBe(verdict);
  });

  it('records a finding for every verdict but ok, with what an analyst needs', () => {
    expect(findingOf('7', 'ok', stored(), writes(MIGRATED_FP))).toBeNull();
    expect(findingOf('7', 'stale', stored(), writes(CRM_NOW_FP))).toEqual({
      noteId: '7',
      reasonCode: 'RECONCILE_STALE',
      details: {
        verdict: 'stale',
        note_id: '0123456789abcdef01234567',
        migrated_by_run_id: 'run-m',
        stored_fingerprint: MIGRATED_FP,
        current_fingerprint: MIGRATED_FP,
        new_fingerprint: CRM_NOW_FP,
      },
    });
    expect(findingOf('8', 'still_failing', null, fails)?.details).toEqual({
      verdict: 'still_failing',
      in_cdp: false,
      reason_code: 'CONTACT_NOT_MAPPED',
      reason_details: { reason: 'x' },
    });
    expect(findingOf('7', 'orphan', stored(editedInCdp), null)?.details).toMatchObject({
      provenance: 'touched',
    });
    for (const v of RECONCILE_VERDICTS) {
      const code = VERDICT_CODES[v];
      expect(findingOf('7', v, stored(), null)?.reasonCode ?? null).toBe(code);
    }
  });

  it('adds verdicts to totals that name every verdict', () => {
    const totals = addVerdicts(emptyVerdictTotals(), ['ok', 'ok', 'orphan', 'stale']);
    expect(totals).toEqual({ ...emptyVerdictTotals(), ok: 2, orphan: 1, stale: 1 });
    expect(Object.keys(totals).sort()).toEqual([...RECONCILE_VERDICTS].sort());
  });
});
