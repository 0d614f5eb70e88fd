import { describe, expect, it } from 'vitest';

import { fakeContactId, seedCdp } from '../../../src/crm/fake/cdp-seed.js';
import { createFakeNoteGenerator } from '../../../src/crm/fake/fake-note-generator.js';
import { resolveFakeTenant } from '../../../src/crm/fake/fake-tenant-options.js';
import { computeFakeTenantPlan } from '../../../src/crm/fake/fake-tenant-plan.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const tenant = resolveFakeTenant({
  cid: '3003',
  companySsoId: 'co-3003',
  noteCount: 2000,
  seed: 4,
  preset: 'messy',
});

describe('CDP seed for a fake tenant', () => {
  it('writes the contacts and users the plan counts, and a second run changes nothing', async () => {
    const plan = computeFakeTenantPlan(tenant);
    const first = await seedCdp(t.db, tenant, { batchSize: 128 });
    expect(first.contacts.upserted).toBe(plan.cdp.contacts);
    expect(first.users.upserted).toBe(plan.cdp.users);
    const again = await seedCdp(t.db, tenant);
    expect(again).toEqual({
      contacts: { upserted: 0, matched: plan.cdp.contacts },
      users: { upserted: 0, matched: plan.cdp.users },
    });
    expect(await t.collections.contacts.countDocuments({ company_sso_id: 'co-3003' })).toBe(
      plan.cdp.contacts,
    );
    expect(await t.collections.users.countDocuments({ company_sso_id: 'co-3003' })).toBe(plan.cdp.users);
  });

  it('lets the repositories resolve exactly the persons and creators the generator planted as mapped', async () => {
    await seedCdp(t.db, tenant);
    const generator = createFakeNoteGenerator(tenant, 'http://fake-crm.test');
    const known: string[] = [];
    const ghosts: string[] = [];
    const byEmail: string[] = [];
    const unmapped: string[] = [];
    for (let i = 0; i < 600; i++) {
      const traits = generator.traits(i);
      const raw = generator.note(i);
      if (traits.category === 'malformed') continue;
      if (traits.category === 'person_not_in_cdp') ghosts.push(String(traits.personId));
      else if (traits.personId !== null) known.push(String(traits.personId));
      if (traits.owner === 'email') byEmail.push(String(raw.creator_email));
      if (traits.owner === 'unmapped_named') unmapped.push(String(raw.creator_email));
    }
    expect(ghosts.length).toBeGreaterThan(0);
    const found = await t.repos.contacts.findContactIdsByCrmPersonIds('co-3003', [...known, ...ghosts]);
    expect([...found.keys()].sort()).toEqual([...new Set(known)].sort());
    expect(found.get(known[0]!)).toBe(fakeContactId(tenant, Number(known[0])));

    expect(byEmail.length).toBeGreaterThan(0);
    const users = await t.repos.users.findByEmails('co-3003', byEmail);
    expect(new Set(users.map((u) => u.email))).toEqual(new Set(byEmail.map((e) => e.toLowerCase())));
    expect(users.every((u) => u.crm_user_id === undefined)).toBe(true);
    expect(await t.repos.users.findByEmails('co-3003', unmapped)).toEqual([]);
  });
});
