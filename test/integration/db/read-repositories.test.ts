import { describe, expect, inject, it } from 'vitest';

import { useTestDb } from '../../helpers/test-db.js';

const caps = inject('caps');
const t = useTestDb(import.meta.url);

describe('contacts, users and feature flags', () => {
  it('maps CRM person ids (strings) to contacts of the same company only', async () => {
    await t.collections.contacts.insertMany([
      { _id: 'c-1', company_sso_id: 'co-a', crm_data: { id: '42' } },
      { _id: 'c-2', company_sso_id: 'co-a', crm_data: { id: '43' } },
      { _id: 'c-3', company_sso_id: 'co-b', crm_data: { id: '44' } },
      { _id: 'c-4', company_sso_id: 'co-a' },
    ]);
    const found = await t.repos.contacts.findContactIdsByCrmPersonIds('co-a', ['42', '44', '99', '42']);
    expect([...found.entries()]).toEqual([['42', 'c-1']]);
    expect(await t.repos.contacts.exists('co-a', 'c-2')).toBe(true);
    expect(await t.repos.contacts.exists('co-b', 'c-2')).toBe(false);
  });

  it.skipIf(!caps.explain)(
    `looks contacts up through the {company_sso_id, crm_data.id} index, not a collection scan [needs capability explain: ${caps.reasons.explain}]`,
    async () => {
      const plan = JSON.stringify(await t.repos.contacts.explainCrmPersonLookup('co-a', ['42', '43']));
      expect(plan).toContain('ix_contacts_company_crm_id');
      expect(plan).not.toContain('COLLSCAN');
    },
  );

  it('finds users by CRM user id and by e-mail in any case', async () => {
    await t.collections.users.insertMany([
      {
        _id: 'u1',
        sso_id: 'sso-1',
        company_sso_id: 'co-a',
        name: 'Alice',
        email: 'Alice@Example.com',
        crm_user_id: '7',
      },
      { _id: 'u2', sso_id: 'sso-2', company_sso_id: 'co-a', name: 'Bob', email: 'bob@example.com' },
      { _id: 'u3', sso_id: 'sso-3', company_sso_id: 'co-b', name: 'Bob elsewhere', email: 'bob@example.com' },
    ]);
    expect((await t.repos.users.findByCrmUserIds('co-a', ['7', '8'])).map((u) => u.sso_id)).toEqual([
      'sso-1',
    ]);
    expect(
      (await t.repos.users.findByEmails('co-a', ['BOB@EXAMPLE.COM', 'alice@example.com']))
        .map((u) => u.sso_id)
        .sort(),
    ).toEqual(['sso-1', 'sso-2']);
    expect((await t.repos.users.findBySsoIds(['sso-2', 'sso-9'])).map((u) => u.name)).toEqual(['Bob']);
  });

  it('reads and switches per-CID feature flags', async () => {
    expect(await t.repos.featureFlags.isEnabled('100', 'crm_notes_migration_enabled')).toBe(false);
    await t.repos.featureFlags.setFlag('100', 'crm_notes_migration_enabled', true, new Date());
    expect(await t.repos.featureFlags.isEnabled('100', 'crm_notes_migration_enabled')).toBe(true);
    expect(await t.repos.featureFlags.isEnabled('101', 'crm_notes_migration_enabled')).toBe(false);
    await t.repos.featureFlags.setFlag('100', 'crm_notes_migration_enabled', false, new Date());
    expect(await t.repos.featureFlags.isEnabled('100', 'crm_notes_migration_enabled')).toBe(false);
  });
});

describe('failure log', () => {
  const base = { cid: '500', companySsoId: 'co', runId: 'run-1', kind: 'migrate' } as const;

  it('records each (run, note, reason) once, however often a page is replayed', async () => {
    const failures = [
      {
        ...base,
        legacyCrmNoteId: '1',
        reasonCode: 'CONTACT_NOT_MAPPED' as const,
        details: { crm_person_id: '9' },
      },
      { ...base, legacyCrmNoteId: '1', reasonCode: 'OWNER_NOT_MAPPED' as const, details: {} },
      { ...base, legacyCrmNoteId: null, reasonCode: 'VALIDATION_SKIPPED' as const, details: {} },
    ];
    expect(await t.repos.failures.recordMany(failures, new Date())).toBe(3);
    expect(await t.repos.failures.recordMany(failures, new Date())).toBe(0);
    expect(await t.repos.failures.countByReason('run-1')).toEqual({
      CONTACT_NOT_MAPPED: 1,
      OWNER_NOT_MAPPED: 1,
      VALIDATION_SKIPPED: 1,
    });
    const page = await t.repos.failures.list({ cid: '500', severity: 'failure' }, { limit: 10 });
    expect(page.items.map((f) => [f.reason_code, f.severity])).toEqual([['CONTACT_NOT_MAPPED', 'failure']]);
  });

  it('pages through records with a cursor, in order, without gaps or repeats', async () => {
    const many = Array.from({ length: 25 }, (_, i) => ({
      cid: '600',
      companySsoId: 'co',
      runId: 'run-p',
      kind: 'migrate' as const,
      legacyCrmNoteId: String(i),
      reasonCode: 'NOTE_TOO_LONG' as const,
      details: { length: 10_001 + i },
    }));
    await t.repos.failures.recordMany(many, new Date());
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await t.repos.failures.list(
        { cid: '600', reasonCode: 'NOTE_TOO_LONG' },
        { after, limit: 10 },
      );
      seen.push(...page.items.map((f) => f.legacy_crm_note_id ?? ''));
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    const streamed: string[] = [];
    for await (const f of t.repos.failures.stream({ cid: '600' })) streamed.push(f.legacy_crm_note_id ?? '');
    expect(streamed).toEqual(seen);
  });
});
