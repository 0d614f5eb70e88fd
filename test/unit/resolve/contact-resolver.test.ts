import { describe, expect, it } from 'vitest';

import { createContactResolver } from '../../../src/resolve/contact-resolver.js';
import { makeCrmNote } from '../../fixtures/builders.js';

/** A contacts repository that records what each lookup asked for. */
function contactsDb(mapping: Record<string, string>) {
  const asked: string[][] = [];
  return {
    asked,
    mapping,
    contacts: {
      findContactIdsByCrmPersonIds: (_co: string, ids: readonly string[]) => {
        asked.push([...ids].sort());
        return Promise.resolve(new Map(ids.filter((id) => mapping[id]).map((id) => [id, mapping[id]!])));
      },
    },
  };
}

const notesFor = (...personIds: (string | null)[]) =>
  personIds.map((crmPersonId, i) => makeCrmNote({ id: `n${i}-${crmPersonId}`, crmPersonId }));

describe('contact resolver', () => {
  it('maps by person first, and fails notes without a person or without a CDP contact', async () => {
    const db = contactsDb({ '42': 'contact-42' });
    const resolver = createContactResolver({ contacts: db.contacts });
    const out = await resolver.resolve('co', [
      makeCrmNote({ id: 'a', crmPersonId: '42', crmCompanyId: '9' }),
      makeCrmNote({ id: 'b', crmPersonId: null, crmDealId: '5' }),
      makeCrmNote({ id: 'c', crmPersonId: '77' }),
    ]);
    expect(out.get('a')).toEqual({ ok: true, value: 'contact-42' });
    expect(out.get('b')).toMatchObject({
      ok: false,
      reasonCode: 'CONTACT_NOT_MAPPED',
      details: { crm_deal_id: '5' },
    });
    expect(out.get('c')).toMatchObject({ ok: false, details: { crm_person_id: '77' } });
  });

  it('without a cache, asks the database for every page', async () => {
    const db = contactsDb({ '1': 'c1' });
    const resolver = createContactResolver({ contacts: db.contacts });
    await resolver.resolve('co', notesFor('1'));
    await resolver.resolve('co', notesFor('1'));
    expect(db.asked).toEqual([['1'], ['1']]);
  });

  it('with a cache, asks only for persons it has not found yet, per company', async () => {
    const db = contactsDb({ '1': 'c1', '2': 'c2', '3': 'c3' });
    const resolver = createContactResolver({ contacts: db.contacts, cache: { max: 100, ttlMs: 60_000 } });
    await resolver.resolve('co', notesFor('1', '2'));
    const second = await resolver.resolve('co', notesFor('1', '2', '3'));
    await resolver.resolve('co', notesFor('1', '2', '3'));
    await resolver.resolve('other-co', notesFor('1'));
    expect(db.asked).toEqual([['1', '2'], ['3'], ['1']]);
    expect([...second.values()].map((r) => (r.ok ? r.value : r.reasonCode))).toEqual(['c1', 'c2', 'c3']);
  });

  it('does not remember a miss: a contact added to CDP later is found', async () => {
    const db = contactsDb({});
    const resolver = createContactResolver({ contacts: db.contacts, cache: { max: 100, ttlMs: 60_000 } });
    const before = await resolver.resolve('co', notesFor('9'));
    db.mapping['9'] = 'c9';
    const after = await resolver.resolve('co', notesFor('9'));
    expect([...before.values()][0]).toMatchObject({ ok: false });
    expect([...after.values()][0]).toEqual({ ok: true, value: 'c9' });
  });

  it('stays within its size bound', async () => {
    const db = contactsDb(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), `c${i}`])));
    const resolver = createContactResolver({ contacts: db.contacts, cache: { max: 3, ttlMs: 60_000 } });
    await resolver.resolve('co', notesFor('0', '1', '2', '3', '4'));
    await resolver.resolve('co', notesFor('0', '4'));
    // Only the 3 most recently stored (2, 3, 4) were kept: 0 is asked again.
    expect(db.asked[1]).toEqual(['0']);
  });
});
