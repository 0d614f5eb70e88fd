/**
 * Reconcile and repair (#14 acceptance, DESIGN.md §11.5) over the real parts: the fake CRM over
 * HTTP (mutated after the migration), the HTTP CRM client, the real attachment pipeline into an
 * embedded S3, and the MongoDB test server. Runs are driven through the page loop directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedCdp } from '../../../src/crm/fake/cdp-seed.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../../src/crm/fake/fake-crm-server.js';
import { createFakeNoteGenerator } from '../../../src/crm/fake/fake-note-generator.js';
import { resolveFakeTenant } from '../../../src/crm/fake/fake-tenant-options.js';
import { createHttpCrmNotesExtractor } from '../../../src/crm/http-crm-notes-extractor.js';
import type { ContactNoteDoc, RunDoc } from '../../../src/db/documents.js';
import { createSilentLogger } from '../../../src/logger.js';
import { kindsShownByDefault } from '../../../src/migration/run-kinds.js';
import { makeCreatorUser, makeCrmNote } from '../../fixtures/builders.js';
import { startTestS3, type TestS3 } from '../../helpers/embedded-s3.js';
import { startTrackedFakeCrm } from '../../helpers/fake-crm.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRealAttachments, type RealAttachments } from '../../helpers/real-attachments.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const CID = '8801';
const COMPANY = 'co-reconcile';
const NOTES = 60;
const PAGE_SIZE = 25;
const TENANT = {
  cid: CID,
  companySsoId: COMPANY,
  noteCount: NOTES,
  seed: 41,
  preset: 'clean' as const,
  // Attachments on a third of the notes, so stale notes are re-hosted; no failures, so "the rest" is ok.
  mix: { attachmentShare: 0.35, ownerUnmappedNamedShare: 0.1 },
};

let crm: FakeCrm;
let s3: TestS3;
let real: RealAttachments;

beforeAll(async () => {
  crm = await startTrackedFakeCrm({ tenants: [TENANT] }, 'file');
  s3 = await startTestS3();
  real = createRealAttachments(s3, crm.port);
  await seedCdp(t.db, resolveFakeTenant(TENANT));
});

afterAll(async () => {
  real.close();
  await crm.stop();
  await s3.stop();
});

function harness(hooks?: Parameters<typeof createRunHarness>[0]['hooks']) {
  return createRunHarness({
    repos: t.repos,
    extractor: createHttpCrmNotesExtractor({
      rootUrl: crm.url,
      auth: FAKE_CRM_DEFAULT_AUTH,
      timeoutMs: 10_000,
      maxRetryAfterMs: 1_000,
      logger: createSilentLogger(),
    }),
    pageSize: PAGE_SIZE,
    attachments: real.attachments,
    vetAttachments: real.vetAttachments,
    attachmentObjects: real.attachmentObjects,
    ...(hooks ? { hooks } : {}),
  });
}

async function run(h: ReturnType<typeof harness>, kind: 'migrate' | 'reconcile' | 'repair'): Promise<RunDoc> {
  const { runId } = await h.trigger({ cid: CID, companySsoId: COMPANY, kind });
  expect(await h.execute(runId)).toMatchObject({ kind: 'finished' });
  return (await t.repos.runs.get(runId))!;
}

const notesOf = () =>
  t.collections.contactNotes.find({ company_sso_id: COMPANY }).sort({ legacy_crm_note_id: 1 }).toArray();
const byLegacyId = async (id: number) =>
  t.collections.contactNotes.findOne({ company_sso_id: COMPANY, legacy_crm_note_id: String(id) });

describe('reconcile and repair (#14)', () => {
  it('reports exactly what changed on either side, writes nothing; repair inserts 3, replaces 1, leaves the edited and the orphan; a second reconcile finds only those two', async () => {
    const h = harness();
    await h.enableFlag(CID);
    const tenant = resolveFakeTenant(TENANT);
    const first = await run(h, 'migrate');
    expect(first.status).toBe('completed_success');
    expect(first.notes_migrated).toBe(NOTES);

    // Pick the notes: C (edited in CRM) carries attachments, so its repair re-hosts them.
    const generator = createFakeNoteGenerator(tenant, crm.url);
    const withAttachments = Array.from({ length: NOTES }, (_, i) => i).filter((i) =>
      generator.traits(i).attachments.some((a) => a.outcome === 'ok'),
    );
    const c = withAttachments[0]!;
    const [a, b, f] = [0, 1, 2, 3].filter((i) => i !== c).slice(0, 3) as [number, number, number];
    const id = (index: number) => tenant.firstNoteId + index;

    // In CDP: a person edits A and deletes B.
    await t.collections.contactNotes.updateOne(
      { company_sso_id: COMPANY, legacy_crm_note_id: String(id(a)) },
      { $set: { note: '<p>Corrected by a person in CDP</p>' } },
    );
    await t.collections.contactNotes.deleteOne({
      company_sso_id: COMPANY,
      legacy_crm_note_id: String(id(b)),
    });
    // In CRM: C is edited, two notes are added, F is deleted.
    const mutated = crm.mutate(CID, { edit: [c], add: 2, delete: [f] });
    expect(mutated.mutation?.reconcile).toMatchObject({
      stale: [id(c)],
      missing: [id(NOTES), id(NOTES + 1)],
      orphan: [id(f)],
      still_failing: [],
    });
    expect(mutated.mutation?.repair).toEqual({ inserts: 2, replaces: 1 });

    const cdpBefore = await notesOf();
    const keysBefore = await s3.keys();
    const reconcile = await run(h, 'reconcile');
    expect(reconcile.status).toBe('completed_success');
    expect(reconcile.reconcile).toEqual({
      ok: NOTES - 4,
      missing: 3,
      stale: 1,
      edited_in_cdp: 1,
      conflict: 0,
      still_failing: 0,
      orphan: 1,
      no_provenance: 0,
    });
    // It wrote no note and no object.
    expect(await notesOf()).toEqual(cdpBefore);
    expect(await s3.keys()).toEqual(keysBefore);
    const findings = await t.collections.failures.find({ run_id: reconcile._id }).toArray();
    const codeOf = (index: number) =>
      findings.filter((r) => r.legacy_crm_note_id === String(id(index))).map((r) => r.reason_code);
    expect(findings.every((r) => r.severity === 'finding' && r.kind === 'reconcile')).toBe(true);
    expect(findings).toHaveLength(6);
    expect(codeOf(a)).toEqual(['RECONCILE_EDITED_IN_CDP']);
    expect(codeOf(b)).toEqual(['RECONCILE_MISSING']);
    expect(codeOf(c)).toEqual(['RECONCILE_STALE']);
    expect(codeOf(f)).toEqual(['RECONCILE_ORPHAN']);
    expect(codeOf(NOTES)).toEqual(['RECONCILE_MISSING']);
    expect(codeOf(NOTES + 1)).toEqual(['RECONCILE_MISSING']);
    // Default failure queries show migrate and repair runs only (DESIGN.md §11.1).
    const shown = await t.repos.failures.list({ cid: CID, kinds: kindsShownByDefault() }, { limit: 100 });
    expect(shown.items.some((r) => r.run_id === reconcile._id)).toBe(false);

    const repair = await run(h, 'repair');
    expect(repair.status).toBe('completed_success');
    expect(repair.repair).toEqual({ inserted: 3, replaced: 1, replace_skipped: 0 });
    expect(repair.reconcile).toMatchObject({
      missing: 3,
      stale: 1,
      edited_in_cdp: 1,
      orphan: 1,
      ok: NOTES - 4,
    });
    expect(repair).toMatchObject({ notes_migrated: 4, notes_failed: 0, closure: { balanced: true } });
    // Left alone: the person's edit and the note CRM no longer has.
    expect((await byLegacyId(id(a)))?.note).toBe('<p>Corrected by a person in CDP</p>');
    expect(await byLegacyId(id(f))).toMatchObject(
      cdpBefore.find((n) => n.legacy_crm_note_id === String(id(f)))!,
    );
    // Written with the repair's provenance; the stale one carries the CRM edit and re-hosted files.
    for (const index of [b, c, NOTES, NOTES + 1]) {
      expect((await byLegacyId(id(index)))?.legacy_migration_run_id).toBe(repair._id);
    }
    const repaired = (await byLegacyId(id(c))) as ContactNoteDoc;
    expect(repaired.note).toContain('Edited in CRM (revision 1).');
    expect(repaired.legacy_replaced_fingerprint).toBe(
      cdpBefore.find((n) => n.legacy_crm_note_id === String(id(c)))?.legacy_fingerprint,
    );
    expect(repaired.attachments.length).toBeGreaterThan(0);
    const keys = new Set(await s3.keys());
    for (const att of repaired.attachments)
      expect(keys.has(att.url.replace('https://cdp.test/attachments/', ''))).toBe(true);
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: COMPANY })).toBe(NOTES + 2);

    const again = await run(h, 'reconcile');
    expect(again.reconcile).toEqual({
      ok: NOTES,
      missing: 0,
      stale: 0,
      edited_in_cdp: 1,
      conflict: 0,
      still_failing: 0,
      orphan: 1,
      no_provenance: 0,
    });
    const codes = (await t.collections.failures.find({ run_id: again._id }).toArray()).map(
      (r) => r.reason_code,
    );
    expect(codes.sort()).toEqual(['RECONCILE_EDITED_IN_CDP', 'RECONCILE_ORPHAN']);
    // Nothing of the scratch data is left behind.
    expect(await t.collections.runScratch.countDocuments({})).toBe(0);
  });

  it('lets a person’s edit that lands between the repair’s read and its write win: the stale note is left and reported (REPAIR_REPLACE_SKIPPED)', async () => {
    const tenant = resolveFakeTenant(TENANT);
    const g = 10;
    const legacyId = String(tenant.firstNoteId + g);
    crm.mutate(CID, { edit: [g] });
    let edits = 0;
    const h = harness({
      async beforeCommit(run) {
        if (run.kind !== 'repair' || edits > 0) return;
        edits++;
        await t.collections.contactNotes.updateOne(
          { company_sso_id: COMPANY, legacy_crm_note_id: legacyId },
          { $set: { note: '<p>A person got there first</p>' } },
        );
      },
    });
    const repair = await run(h, 'repair');
    expect(edits).toBe(1);
    expect(repair.repair).toMatchObject({ replaced: 0, replace_skipped: 1 });
    expect((await byLegacyId(Number(legacyId)))?.note).toBe('<p>A person got there first</p>');
    const skipped = await t.collections.failures.findOne({
      run_id: repair._id,
      reason_code: 'REPAIR_REPLACE_SKIPPED',
    });
    expect(skipped).toMatchObject({
      legacy_crm_note_id: legacyId,
      severity: 'finding',
      details: { why: 'edited_in_cdp_meanwhile' },
    });
  });
});

describe('the other verdicts (#14)', () => {
  it('tells conflict, still_failing and no_provenance apart; repair inserts a note that failed before once its contact exists, and never touches the others', async () => {
    const cid = '8802';
    const company = 'co-verdicts';
    const notes = [1, 2, 3, 4].map((n) =>
      makeCrmNote({ id: String(n), crmPersonId: `p${n}`, note: `<p>note ${n}</p>` }),
    );
    // Person 4 has no CDP contact yet: note 4 fails CONTACT_NOT_MAPPED.
    await t.collections.contacts.insertMany(
      [1, 2, 3].map((n) => ({ _id: `c${n}`, company_sso_id: company, crm_data: { id: `p${n}` } })),
    );
    // The notes' creator maps to an SSO user (else every note warns and the run halts on MAX_WARNING_RATE).
    await t.collections.users.insertOne(makeCreatorUser(company));
    const memory = createMemoryCrm(notes);
    const h = createRunHarness({ repos: t.repos, extractor: memory, pageSize: 2 });
    await h.enableFlag(cid);
    const go = async (kind: 'migrate' | 'reconcile' | 'repair') => {
      const { runId } = await h.trigger({ cid, companySsoId: company, kind });
      await h.execute(runId);
      return (await t.repos.runs.get(runId))!;
    };
    expect((await go('migrate')).notes_failed).toBe(1);
    // Note 1 changed on both sides; note 2 lost its provenance (as if migrated before #12).
    memory.notes[0] = { ...notes[0]!, note: '<p>note 1, edited in CRM</p>' };
    await t.collections.contactNotes.updateOne(
      { company_sso_id: company, legacy_crm_note_id: '1' },
      { $set: { note: '<p>note 1, edited in CDP</p>' } },
    );
    await t.collections.contactNotes.updateOne(
      { company_sso_id: company, legacy_crm_note_id: '2' },
      { $unset: { legacy_fingerprint: '', legacy_migration_run_id: '' } },
    );
    const before = await t.collections.contactNotes
      .find({ company_sso_id: company })
      .sort({ _id: 1 })
      .toArray();

    const reconcile = await go('reconcile');
    expect(reconcile.reconcile).toMatchObject({
      conflict: 1,
      no_provenance: 1,
      ok: 1,
      still_failing: 1,
      missing: 0,
    });
    const failing = await t.collections.failures.findOne({
      run_id: reconcile._id,
      reason_code: 'RECONCILE_STILL_FAILING',
    });
    expect(failing).toMatchObject({
      legacy_crm_note_id: '4',
      details: { reason_code: 'CONTACT_NOT_MAPPED', in_cdp: false },
    });
    const noProvenance = await t.collections.failures.findOne({
      run_id: reconcile._id,
      reason_code: 'RECONCILE_NO_PROVENANCE',
    });
    expect(noProvenance).toMatchObject({ legacy_crm_note_id: '2', details: { matches_crm_now: true } });

    await t.collections.contacts.insertOne({ _id: 'c4', company_sso_id: company, crm_data: { id: 'p4' } });
    const repair = await go('repair');
    expect(repair.status).toBe('completed_success');
    expect(repair.repair).toEqual({ inserted: 1, replaced: 0, replace_skipped: 0 });
    const after = await t.collections.contactNotes
      .find({ company_sso_id: company })
      .sort({ _id: 1 })
      .toArray();
    expect(after.slice(0, 3)).toEqual(before);
    expect(after[3]).toMatchObject({
      legacy_crm_note_id: '4',
      contact_id: 'c4',
      legacy_migration_run_id: repair._id,
    });
  });
});
