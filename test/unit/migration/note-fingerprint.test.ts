import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  canonicalJson,
  FINGERPRINT_FIELDS,
  fingerprintOf,
  isUntouched,
  provenanceOf,
} from '../../../src/migration/note-fingerprint.js';

const base = {
  note: '<b>Called the client</b>',
  contact_id: 'contact-42',
  owner_id: 'sso-7' as string | null,
  attachments: [
    {
      type: 'pdf' as const,
      url: 'https://cdp.local/attachments/co/1/a.pdf',
      file_name: 'a.pdf',
      file_size_in_byte: 3,
    },
  ],
  created_at: new Date('2018-05-06T07:08:09.000Z'),
  updated_at: new Date('2019-01-02T03:04:05.678Z'),
};
const stored = (overrides: Record<string, unknown> = {}) => ({
  _id: 'x',
  company_sso_id: 'co',
  legacy_crm_note_id: '1',
  is_deleted: false,
  ...base,
  legacy_fingerprint: fingerprintOf(base),
  ...overrides,
});

describe('note fingerprint (DESIGN.md §11.2)', () => {
  it('is the lowercase hex SHA-256 of a fixed canonical text (sorted keys, ISO dates, absent label = null)', () => {
    const text =
      '{"attachments":[{"file_name":"a.pdf","file_size_in_byte":3,"type":"pdf","url":"https://cdp.local/attachments/co/1/a.pdf"}],' +
      '"contact_id":"contact-42","created_at":"2018-05-06T07:08:09.000Z","legacy_owner_label":null,' +
      '"note":"<b>Called the client</b>","owner_id":"sso-7","updated_at":"2019-01-02T03:04:05.678Z"}';
    expect(canonicalJson({ ...base, legacy_owner_label: null })).toBe(text);
    expect(fingerprintOf(base)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    // Pinned (computed outside Node): a change here changes every stored fingerprint.
    expect(fingerprintOf(base)).toBe('4fe7d7a8e2661d1f4b4e53aea0e36ea83d5fb0221174e6e336480516aff28de4');
  });

  it('covers exactly the seven fields a migration writes', () => {
    expect(FINGERPRINT_FIELDS).toEqual([
      'note',
      'contact_id',
      'owner_id',
      'legacy_owner_label',
      'attachments',
      'created_at',
      'updated_at',
    ]);
  });

  it('does not depend on key order, of the note or of its attachments', () => {
    const reordered = {
      updated_at: base.updated_at,
      created_at: base.created_at,
      attachments: [
        { file_size_in_byte: 3, file_name: 'a.pdf', url: base.attachments[0]!.url, type: 'pdf' as const },
      ],
      owner_id: base.owner_id,
      contact_id: base.contact_id,
      note: base.note,
    };
    expect(fingerprintOf(reordered)).toBe(fingerprintOf(base));
    expect(provenanceOf(stored({ ...reordered }))).toBe('untouched');
  });

  it('ignores fields a migration does not write (ids, company, is_deleted, provenance itself)', () => {
    expect(
      isUntouched(stored({ is_deleted: true, company_sso_id: 'other', legacy_migration_run_id: 'r9' })),
    ).toBe(true);
  });

  it('reads an absent legacy_owner_label as null, and a present one as a change', () => {
    expect(fingerprintOf({ ...base, legacy_owner_label: null })).toBe(fingerprintOf(base));
    expect(fingerprintOf({ ...base, legacy_owner_label: undefined })).toBe(fingerprintOf(base));
    expect(fingerprintOf({ ...base, legacy_owner_label: 'Former Agent' })).not.toBe(fingerprintOf(base));
  });

  const edits: [string, Record<string, unknown>][] = [
    ['the HTML', { note: '<b>Called the client!</b>' }],
    ['one character of whitespace', { note: '<b>Called the client </b>' }],
    ['the contact', { contact_id: 'contact-43' }],
    ['the owner', { owner_id: 'sso-8' }],
    ['the owner to none', { owner_id: null }],
    ['the owner label', { legacy_owner_label: 'Someone' }],
    ['an attachment removed', { attachments: [] }],
    ['an attachment renamed', { attachments: [{ ...base.attachments[0], file_name: 'b.pdf' }] }],
    [
      'an attachment added',
      { attachments: [...base.attachments, { ...base.attachments[0], file_name: 'c.pdf' }] },
    ],
    [
      'the attachment order',
      { attachments: [...base.attachments, { ...base.attachments[0], file_name: 'c.pdf' }].reverse() },
    ],
    ['created_at by a millisecond', { created_at: new Date(base.created_at.getTime() + 1) }],
    ['updated_at (an edit in CDP)', { updated_at: new Date('2026-12-01T00:00:00.000Z') }],
  ];
  it.each(edits)('sees a change of %s as touched', (_what, change) => {
    expect(provenanceOf(stored(change))).toBe('touched');
  });

  it('calls a note with a field of the wrong type touched, not untouched', () => {
    expect(provenanceOf(stored({ created_at: base.created_at.toISOString() }))).toBe('touched');
    expect(provenanceOf(stored({ attachments: null }))).toBe('touched');
    expect(provenanceOf(stored({ note: undefined }))).toBe('touched');
  });

  it('calls a note without a fingerprint (migrated before provenance, or written by a person) unknown', () => {
    const { legacy_fingerprint: _gone, ...old } = stored();
    expect(provenanceOf(old)).toBe('unknown');
    expect(isUntouched(old)).toBe(false);
  });

  it('refuses a number JSON cannot write instead of hashing something ambiguous', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/no JSON form/);
  });
});
