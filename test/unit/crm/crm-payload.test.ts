import { describe, expect, it } from 'vitest';

import { parseCrmNote, parsePersonNotesEnvelope, tryReadCrmNoteId } from '../../../src/crm/crm-payload.js';
import { makeCrmNotePayload, makeEnvelope } from '../../fixtures/crm-notes.js';

describe('parseCrmNote', () => {
  it('turns CRM integer ids into strings and timestamps with offsets into instants', () => {
    const result = parseCrmNote(makeCrmNotePayload());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.note).toMatchObject({
      id: '101',
      creatorId: '7',
      crmPersonId: '5001',
      crmCompanyId: null,
      crmDealId: '9',
      crmNoteTypeId: 1,
      checkin: null,
    });
    expect(result.note.createdAt.toISOString()).toBe('2019-03-04T05:06:07.000Z');
    expect(result.note.updatedAt.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(result.note.images).toEqual([
      { url: 'https://crm.example/a.png', fileName: 'a.png', contentType: 'image/png', size: 12 },
    ]);
  });

  it('accepts missing optional fields and a null note body as empty text', () => {
    const raw = makeCrmNotePayload({ note: null });
    for (const key of ['creator_id', 'creator_name', 'crm_note_images', 'crm_checkin']) delete raw[key];
    const result = parseCrmNote(raw);
    expect(result.ok && result.note).toMatchObject({
      note: '',
      creatorId: null,
      creatorName: null,
      images: [],
    });
  });

  it('keeps a check-in payload as it came', () => {
    const checkin = { id: 3, latitude: -6.2, address: 'Jl. Sudirman' };
    const result = parseCrmNote(makeCrmNotePayload({ crm_checkin: checkin }));
    expect(result.ok && result.note.checkin).toEqual(checkin);
  });

  it.each([
    ['a string note type', { crm_note_type_id: '1' }, 'crm_note_type_id'],
    ['a date without a zone', { created_at: '2019-03-04 12:06:07' }, 'created_at'],
    ['no note field', { note: undefined }, 'note'],
    ['images that are not a list', { crm_note_images: 'a.png' }, 'crm_note_images'],
    ['a non-integer person id', { crm_person_id: 'P-1' }, 'crm_person_id'],
    [
      'an attachment without url',
      { crm_note_attachments: [{ file_name: 'x.pdf' }] },
      'crm_note_attachments.0.url',
    ],
  ])('reports %s as CRM_PAYLOAD_INVALID with its id and the zod issue', (_label, overrides, path) => {
    const result = parseCrmNote(makeCrmNotePayload(overrides));
    expect(result).toMatchObject({ ok: false, reasonCode: 'CRM_PAYLOAD_INVALID', legacyCrmNoteId: '101' });
    if (result.ok) return;
    expect(result.details.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('reports a null id when the id itself is unreadable', () => {
    expect(parseCrmNote(makeCrmNotePayload({ id: 'abc' }))).toMatchObject({
      ok: false,
      legacyCrmNoteId: null,
    });
    expect(parseCrmNote('not an object')).toMatchObject({ ok: false, legacyCrmNoteId: null });
    expect(tryReadCrmNoteId({ id: -4 })).toBeNull();
    expect(tryReadCrmNoteId({ id: 12 })).toBe('12');
  });
});

describe('parsePersonNotesEnvelope', () => {
  it('accepts a valid envelope and leaves notes unvalidated', () => {
    const result = parsePersonNotesEnvelope(makeEnvelope([{ whatever: true }]), 1);
    expect(result).toMatchObject({ ok: true, envelope: { data: [{ whatever: true }], meta: { total: 1 } } });
  });

  it.each([
    ['data is not a list', { data: 'x', meta: { page: 1, per_page: 1, total: 0, total_pages: 0 } }, 'data'],
    ['meta is missing', { data: [] }, 'meta'],
    ['meta.total is negative', makeEnvelope([], { total: -1 }), 'meta.total'],
    ['the page is not the one asked for', makeEnvelope([], { page: 2 }), 'meta.page'],
    ['there are more notes than per_page', makeEnvelope([{}, {}], { per_page: 1 }), 'data'],
  ])('rejects an envelope where %s', (_label, body, path) => {
    const result = parsePersonNotesEnvelope(body, 1);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toContain(path);
  });
});
