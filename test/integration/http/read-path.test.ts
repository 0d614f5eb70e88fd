import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';

import type { ContactNoteDoc } from '../../../src/db/documents.js';
import { call, startApi } from '../../helpers/api-server.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);

const CO = 'co-read';
const CONTACT = 'contact-1';

function note(overrides: Partial<ContactNoteDoc>): ContactNoteDoc {
  return {
    _id: new ObjectId(),
    company_sso_id: CO,
    contact_id: CONTACT,
    owner_id: null,
    note: '<p>note</p>',
    attachments: [],
    is_deleted: false,
    created_at: new Date('2020-01-01T00:00:00.000Z'),
    updated_at: new Date('2020-01-01T00:00:00.000Z'),
    ...overrides,
  };
}

/** Mixed state: migrated notes (mapped owner, label-only, gone owner), a human note, another contact's, a deleted one. */
const NOTES = {
  mapped: note({
    owner_id: 'sso-alice',
    note: '<b>migrated, mapped</b>',
    legacy_crm_note_id: '11',
    created_at: new Date('2019-05-01T00:00:00.000Z'),
  }),
  labelOnly: note({
    owner_id: null,
    note: 'migrated, unmapped',
    legacy_crm_note_id: '12',
    legacy_owner_label: 'Former Agent',
    created_at: new Date('2018-01-01T00:00:00.000Z'),
  }),
  goneOwner: note({
    owner_id: 'sso-departed',
    note: 'owner no longer in SSO',
    legacy_crm_note_id: '13',
    legacy_owner_label: 'Departed Dave',
    created_at: new Date('2017-01-01T00:00:00.000Z'),
  }),
  human: note({
    owner_id: 'sso-bob',
    note: '<p>Written in CDP by Bob &amp; co</p>',
    attachments: [{ type: 'pdf', url: 'https://cdp.local/a.pdf', file_name: 'a.pdf', file_size_in_byte: 10 }],
    created_at: new Date('2021-02-03T04:05:06.000Z'),
    updated_at: new Date('2021-03-03T04:05:06.000Z'),
  }),
  otherContact: note({ contact_id: 'contact-2', owner_id: 'sso-alice', note: 'not mine' }),
  deleted: note({
    owner_id: 'sso-alice',
    note: 'deleted',
    is_deleted: true,
    created_at: new Date('2022-01-01'),
  }),
};

beforeAll(async () => {
  await t.collections.contacts.insertMany([
    { _id: CONTACT, company_sso_id: CO },
    { _id: 'contact-2', company_sso_id: CO },
  ]);
  await t.collections.users.insertMany([
    { _id: 'u1', sso_id: 'sso-alice', company_sso_id: CO, name: 'Alice Live', email: 'alice@x' },
    { _id: 'u2', sso_id: 'sso-bob', company_sso_id: CO, name: 'Bob Live', email: 'bob@x' },
    // Same SSO id shape in another company must not name our authors.
    { _id: 'u3', sso_id: 'sso-departed', company_sso_id: 'co-other', name: 'Not Dave', email: 'd@x' },
  ]);
  await t.collections.contactNotes.insertMany(Object.values(NOTES));
});

const path = (q = '') => `/v1/contacts/${CONTACT}/notes?company_sso_id=${CO}${q}`;

describe('read path', () => {
  it('lists a contact’s notes newest first with live SSO names, label fallbacks and the human note unchanged', async () => {
    const api = await startApi(t);
    const res = await call(api, 'GET', path());
    expect(res.status).toBe(200);
    const notes = res.json.notes as { id: string; author_name: string | null; author_source: string }[];
    expect(notes.map((n) => n.id)).toEqual(
      [NOTES.human, NOTES.mapped, NOTES.labelOnly, NOTES.goneOwner].map((n) => n._id.toHexString()),
    );
    expect(notes.map((n) => [n.author_name, n.author_source])).toEqual([
      ['Bob Live', 'sso'],
      ['Alice Live', 'sso'],
      ['Former Agent', 'legacy_owner_label'],
      ['Departed Dave', 'legacy_owner_label'],
    ]);
    expect(notes[0]).toEqual({
      id: NOTES.human._id.toHexString(),
      company_sso_id: CO,
      contact_id: CONTACT,
      owner_id: 'sso-bob',
      author_name: 'Bob Live',
      author_source: 'sso',
      note: '<p>Written in CDP by Bob &amp; co</p>',
      attachments: [
        { type: 'pdf', url: 'https://cdp.local/a.pdf', file_name: 'a.pdf', file_size_in_byte: 10 },
      ],
      created_at: '2021-02-03T04:05:06.000Z',
      updated_at: '2021-03-03T04:05:06.000Z',
      legacy_crm_note_id: null,
      legacy_owner_label: null,
      permissions: { can_edit: false, can_delete: false },
    });
    // Reading changed nothing.
    expect(await t.collections.contactNotes.findOne({ _id: NOTES.human._id })).toEqual(NOTES.human);
    await api.close();
  });

  it('shows the live name after a rename (the name is not copied into the note)', async () => {
    const api = await startApi(t);
    await t.collections.users.updateOne({ sso_id: 'sso-alice' }, { $set: { name: 'Alice Renamed' } });
    const res = await call(api, 'GET', path());
    expect(res.json.notes[1].author_name).toBe('Alice Renamed');
    await t.collections.users.updateOne({ sso_id: 'sso-alice' }, { $set: { name: 'Alice Live' } });
    await api.close();
  });

  it('lets only the owner edit or delete, and nobody a label-only note', async () => {
    const api = await startApi(t);
    const asAlice = await call(api, 'GET', path(), { headers: { 'x-user-sso-id': 'sso-alice' } });
    const perms = Object.fromEntries(
      asAlice.json.notes.map((n: { id: string; permissions: unknown }) => [n.id, n.permissions]),
    );
    expect(perms[NOTES.mapped._id.toHexString()]).toEqual({ can_edit: true, can_delete: true });
    expect(perms[NOTES.human._id.toHexString()]).toEqual({ can_edit: false, can_delete: false });
    expect(perms[NOTES.labelOnly._id.toHexString()]).toEqual({ can_edit: false, can_delete: false });
    const asBob = await call(api, 'GET', path(), { headers: { 'x-user-sso-id': 'sso-bob' } });
    expect(asBob.json.notes[0].permissions).toEqual({ can_edit: true, can_delete: true });
    await api.close();
  });

  it('honours limit, refuses a bad one, and answers 404 for an unknown contact', async () => {
    const api = await startApi(t);
    expect((await call(api, 'GET', path('&limit=2'))).json.notes).toHaveLength(2);
    expect((await call(api, 'GET', path('&limit=201'))).status).toBe(400);
    const missing = await call(api, 'GET', `/v1/contacts/nope/notes?company_sso_id=${CO}`);
    expect(missing).toMatchObject({ status: 404, json: { error: 'NOT_FOUND' } });
    const otherCompany = await call(api, 'GET', `/v1/contacts/${CONTACT}/notes?company_sso_id=co-other`);
    expect(otherCompany.status).toBe(404);
    const noCompany = await call(api, 'GET', `/v1/contacts/${CONTACT}/notes`);
    expect(noCompany).toMatchObject({ status: 400, json: { error: 'VALIDATION_ERROR' } });
    await api.close();
  });
});
