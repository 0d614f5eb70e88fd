import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { objectKeyOfHostedUrl } from '../../../src/attachments/asset-key.js';
import type { StoredNoteDoc } from '../../../src/db/contact-notes-provenance.js';
import { fingerprintOf } from '../../../src/migration/note-fingerprint.js';
import { rollbackDecisionOf } from '../../../src/migration/rollback-plan.js';

const fields = {
  note: '<p>x</p>',
  contact_id: 'c1',
  owner_id: null,
  legacy_owner_label: 'Old CRM user',
  attachments: [
    {
      type: 'pdf' as const,
      url: 'https://cdp.test/att/co-1/42/offer-0123456789ab.pdf',
      file_name: 'offer.pdf',
      file_size_in_byte: 9,
    },
    {
      type: 'image' as const,
      url: 'https://old-proxy.example/a/b/co-1/42/photo-ba9876543210.png',
      file_name: 'p.png',
      file_size_in_byte: 9,
    },
  ],
  created_at: new Date('2020-01-01T00:00:00.000Z'),
  updated_at: new Date('2020-01-01T00:00:00.000Z'),
};
const note = (overrides: Partial<StoredNoteDoc> = {}): StoredNoteDoc => ({
  _id: new ObjectId(),
  legacy_crm_note_id: '42',
  legacy_migration_run_id: 'r',
  legacy_fingerprint: fingerprintOf(fields),
  ...fields,
  ...overrides,
});

describe('rollback decisions (DESIGN.md §11.6)', () => {
  it('deletes an untouched note with the objects its own URLs name, whatever the proxy base was', () => {
    expect(rollbackDecisionOf('co-1', note())).toEqual({
      action: 'delete',
      objectKeys: ['co-1/42/offer-0123456789ab.pdf', 'co-1/42/photo-ba9876543210.png'],
    });
  });

  it('keeps an edited note and a note without a fingerprint', () => {
    expect(rollbackDecisionOf('co-1', note({ legacy_owner_label: 'Renamed' }))).toEqual({
      action: 'keep',
      provenance: 'touched',
    });
    expect(rollbackDecisionOf('co-1', note({ legacy_fingerprint: undefined }))).toEqual({
      action: 'keep',
      provenance: 'unknown',
    });
  });
});

describe('objectKeyOfHostedUrl', () => {
  it.each([
    ['a URL of another note', 'https://cdp.test/att/co-1/43/a-0123456789ab.pdf'],
    ['a URL of another company', 'https://cdp.test/att/co-2/42/a-0123456789ab.pdf'],
    ['a folder without an asset', 'https://cdp.test/att/co-1/42/'],
    ['a climb out of the folder', 'https://cdp.test/att/co-1/42/../../other/x.pdf'],
    ['a hidden file', 'https://cdp.test/att/co-1/42/.env'],
    ['a query string', 'https://cdp.test/att/co-1/42/a.pdf?x=1'],
    ['a URL a person pasted', 'https://evil.example/co-1/4/x.pdf'],
  ])('finds no key in %s', (_name, url) => {
    expect(objectKeyOfHostedUrl(url, 'co-1', '42')).toBeNull();
  });

  it('percent-encodes ids as the asset keys do', () => {
    expect(objectKeyOfHostedUrl('https://p/co%3Ax/4%2E2/f-0123456789ab.pdf', 'co:x', '4.2')).toBe(
      'co%3Ax/4%2E2/f-0123456789ab.pdf',
    );
  });
});
