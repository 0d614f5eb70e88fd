/**
 * Reconcile and repair on the shared loop and behind the trigger (#14): a stale worker fenced
 * out mid-CRM-pass and mid-orphan-pass, cancel, and `POST /private/notes/migrate` with these kinds
 * over a real port — flag and ALREADY_MIGRATED rules, N concurrent triggers, hostile bodies.
 * Notes come from the in-memory CRM, so a test can act at the exact page it names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CrmNote } from '../../../src/crm/crm-note.js';
import type { RunDoc } from '../../../src/db/documents.js';
import { makeCreatorUser, makeCrmNote } from '../../fixtures/builders.js';
import { type ApiUnderTest, call, startApi } from '../../helpers/api-server.js';
import { createMemoryCrm, type MemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const PAGE_SIZE = 3;

let cidSeq = 8900;
/** The CRM of every tenant by CID: the API's probe asks it whether it knows the CID. */
const crms = new Map<string, MemoryCrm>();
let api: ApiUnderTest;

beforeAll(async () => {
  api = await startApi(t, {
    scope: 'file',
    pageSize: PAGE_SIZE,
    extractor: {
      probeOrganization: (cid) =>
        crms.get(cid)?.probeOrganization(cid) ?? Promise.reject(new Error(`no tenant ${cid}`)),
    },
  });
});

afterAll(async () => {
  await api.close();
});

/** A tenant of `count` notes, every person and the creator in CDP; a harness over the same database. */
async function tenant(count: number, opts: { flag?: boolean } = {}) {
  const cid = String(cidSeq++);
  const companySsoId = `co-${cid}`;
  const notes: CrmNote[] = Array.from({ length: count }, (_, i) =>
    makeCrmNote({ id: String(i + 1), crmPersonId: `p${i + 1}`, note: `<p>note ${i + 1}</p>` }),
  );
  await t.collections.contacts.insertMany(
    notes.map((n) => ({
      _id: `${cid}-c${n.id}`,
      company_sso_id: companySsoId,
      crm_data: { id: n.crmPersonId! },
    })),
  );
  await t.collections.users.insertOne(makeCreatorUser(companySsoId));
  const crm = createMemoryCrm(notes);
  crms.set(cid, crm);
  const hooks: { beforeCommit?: (run: RunDoc, page: number) => Promise<void> } = {};
  const h = createRunHarness({
    repos: t.repos,
    extractor: crm,
    pageSize: PAGE_SIZE,
    leaseMs: 5_000,
    heartbeatMs: 1_000,
    hooks: { beforeCommit: (run, page) => hooks.beforeCommit?.(run, page) ?? Promise.resolve() },
  });
  if (opts.flag !== false) await h.enableFlag(cid);
  const trigger = (extra: Record<string, unknown> = {}) =>
    call(api, 'POST', '/private/notes/migrate', { body: { cid, company_sso_id: companySsoId, ...extra } });
  const runToEnd = async (kind: string): Promise<RunDoc> => {
    const res = await trigger({ kind });
    expect(res.status, res.text).toBe(200);
    expect(await h.execute(res.json.run_id as string)).toMatchObject({ kind: 'finished' });
    return (await t.repos.runs.get(res.json.run_id as string))!;
  };
  return { cid, companySsoId, crm, h, hooks, trigger, runToEnd };
}

type Tenant = Awaited<ReturnType<typeof tenant>>;

/**
 * A migrated tenant of 9 notes, then: note 2 edited in CDP, note 5 deleted in CDP, notes 8 and 9
 * gone from CRM. A reconcile must find 1 edited_in_cdp, 1 missing, 2 orphans and 5 ok.
 */
async function changedTenant(): Promise<Tenant> {
  const tn = await tenant(9);
  expect((await tn.runToEnd('migrate')).status).toBe('completed_success');
  await t.collections.contactNotes.updateOne(
    { company_sso_id: tn.companySsoId, legacy_crm_note_id: '2' },
    { $set: { note: '<p>corrected in CDP</p>' } },
  );
  await t.collections.contactNotes.deleteOne({ company_sso_id: tn.companySsoId, legacy_crm_note_id: '5' });
  tn.crm.notes.splice(7, 2);
  return tn;
}

const EXPECTED_VERDICTS = {
  ok: 5,
  missing: 1,
  stale: 0,
  edited_in_cdp: 1,
  conflict: 0,
  still_failing: 0,
  orphan: 2,
  no_provenance: 0,
};

/** Each finding of a run once: (note, reason) pairs, sorted. */
async function findingsOf(runId: string): Promise<string[]> {
  const records = await t.collections.failures.find({ run_id: runId }).toArray();
  return records.map((r) => `${r.legacy_crm_note_id}:${r.reason_code}`).sort();
}

const EXPECTED_FINDINGS = [
  '2:RECONCILE_EDITED_IN_CDP',
  '5:RECONCILE_MISSING',
  '8:RECONCILE_ORPHAN',
  '9:RECONCILE_ORPHAN',
];

/**
 * Runs worker A until the hook fires at `page`, where A's lease expires and worker B takes the run
 * over and finishes it; then A goes on and must be fenced out.
 */
async function takeOverAt(tn: Tenant, runId: string, page: number) {
  let bDone: Promise<unknown> | undefined;
  tn.hooks.beforeCommit = async (run, p) => {
    if (run._id !== runId || p !== page || bDone) return;
    await t.collections.locks.updateOne({ _id: tn.cid }, { $set: { expires_at: new Date(Date.now() - 1) } });
    bDone = tn.h.execute(runId, 'worker-b');
    await bDone;
  };
  const a = await tn.h.execute(runId, 'worker-a');
  expect(await bDone).toEqual({ kind: 'finished', status: 'completed_success' });
  expect(a).toEqual({ kind: 'lease-lost' });
  return (await t.repos.runs.get(runId))!;
}

describe('reconcile and repair on the shared loop (#14)', () => {
  it('fences out a worker whose lease expired mid-CRM-pass: the verdicts are the new owner’s, nothing counted twice', async () => {
    const tn = await changedTenant();
    const before = await t.collections.contactNotes.find({ company_sso_id: tn.companySsoId }).toArray();
    const res = await tn.trigger({ kind: 'reconcile' });
    const run = await takeOverAt(tn, res.json.run_id as string, 2);
    expect(run).toMatchObject({
      status: 'completed_success',
      owner: 'worker-b',
      notes_processed: 7,
      notes_migrated: 0,
      reconcile: EXPECTED_VERDICTS,
    });
    expect(await findingsOf(run._id)).toEqual(EXPECTED_FINDINGS);
    expect(await t.collections.contactNotes.find({ company_sso_id: tn.companySsoId }).toArray()).toEqual(
      before,
    );
    expect(await t.collections.runScratch.countDocuments({ run_id: run._id })).toBe(0);
  });

  it('fences out a worker whose lease expired mid-orphan-pass: each orphan reported once, totals exact', async () => {
    const tn = await changedTenant();
    const res = await tn.trigger({ kind: 'reconcile' });
    // CRM holds 7 notes: pages 1–3; the orphan pass over CDP's 8 legacy ids is pages 4–6 (then an
    // empty 7). Page 5 holds 4, 6 and 7: CRM returned them, so they are no orphans — even for a
    // worker that reaches its commit after the new owner finished and cleared the seen ids.
    const run = await takeOverAt(tn, res.json.run_id as string, 5);
    expect(run).toMatchObject({
      status: 'completed_success',
      owner: 'worker-b',
      reconcile: EXPECTED_VERDICTS,
    });
    expect(await findingsOf(run._id)).toEqual(EXPECTED_FINDINGS);
  });

  it('lets a repair worker that lost the run mid-orphan-pass write nothing: note 5 inserted once, each orphan once', async () => {
    const tn = await changedTenant();
    const res = await tn.trigger({ kind: 'repair' });
    // The repair inserts note 5 on page 2, so CDP's orphan pass is 1–3, 4–6 (page 5), 7–9, empty.
    const run = await takeOverAt(tn, res.json.run_id as string, 5);
    expect(run).toMatchObject({
      status: 'completed_success',
      owner: 'worker-b',
      reconcile: EXPECTED_VERDICTS,
      repair: { inserted: 1, replaced: 0, replace_skipped: 0 },
      notes_migrated: 1,
    });
    expect(await findingsOf(run._id)).toEqual([
      '2:RECONCILE_EDITED_IN_CDP',
      '8:RECONCILE_ORPHAN',
      '9:RECONCILE_ORPHAN',
    ]);
    expect(
      await t.collections.contactNotes.countDocuments({
        company_sso_id: tn.companySsoId,
        legacy_crm_note_id: '5',
      }),
    ).toBe(1);
    expect(await t.collections.runScratch.countDocuments({ run_id: run._id })).toBe(0);
  });

  it('stops after the current page when cancelled, having written no note, and frees the CID', async () => {
    const tn = await changedTenant();
    const res = await tn.trigger({ kind: 'reconcile' });
    const runId = res.json.run_id as string;
    tn.hooks.beforeCommit = async (run, page) => {
      if (run._id === runId && page === 2) await t.repos.runs.requestCancel(tn.cid, new Date());
    };
    const notesBefore = await t.collections.contactNotes.countDocuments({ company_sso_id: tn.companySsoId });
    expect(await tn.h.execute(runId)).toEqual({ kind: 'finished', status: 'cancelled' });
    expect(await t.repos.runs.get(runId)).toMatchObject({ status: 'cancelled', checkpoint: { page: 2 } });
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: tn.companySsoId })).toBe(
      notesBefore,
    );
    expect(await t.repos.locks.get(tn.cid)).toBeNull();
    expect((await tn.trigger({ kind: 'reconcile' })).status).toBe(200);
  });
});

describe('POST /private/notes/migrate with kind reconcile or repair (#14)', () => {
  it('reconcile needs no flag, is allowed after completed_success, and never changes whether the CID is migrated', async () => {
    const tn = await tenant(4, { flag: false });
    const early = await tn.runToEnd('reconcile');
    expect(early.reconcile).toMatchObject({ missing: 4, ok: 0 });
    expect((await tn.trigger()).json).toMatchObject({ error: 'FLAG_DISABLED' });
    await tn.h.enableFlag(tn.cid);
    const migration = await tn.runToEnd('migrate');
    expect(migration.status).toBe('completed_success');
    const after = await tn.runToEnd('reconcile');
    expect(after).toMatchObject({ status: 'completed_success', reconcile: { ok: 4, missing: 0 } });
    expect((await tn.trigger()).json).toMatchObject({
      error: 'ALREADY_MIGRATED',
      details: { run_id: migration._id },
    });
  });

  it('repair needs the flag, is allowed after completed_success, and its success keeps the CID migrated', async () => {
    const tn = await tenant(4, { flag: false });
    expect((await tn.trigger({ kind: 'repair' })).json).toMatchObject({ error: 'FLAG_DISABLED' });
    await tn.h.enableFlag(tn.cid);
    await tn.runToEnd('migrate');
    await t.collections.contactNotes.deleteOne({ company_sso_id: tn.companySsoId, legacy_crm_note_id: '3' });
    const repair = await tn.runToEnd('repair');
    expect(repair).toMatchObject({ status: 'completed_success', repair: { inserted: 1, replaced: 0 } });
    expect((await tn.trigger()).json).toMatchObject({
      error: 'ALREADY_MIGRATED',
      details: { run_id: repair._id },
    });
  });

  it('N concurrent reconcile triggers make exactly one run; the rest, and a repair meanwhile, are 409', async () => {
    const tn = await tenant(3);
    const answers = await Promise.all(Array.from({ length: 8 }, () => tn.trigger({ kind: 'reconcile' })));
    const started = answers.filter((a) => a.status === 200);
    expect(started).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).map((a) => a.json.error)).toEqual(
      Array.from({ length: 7 }, () => 'JOB_ALREADY_RUNNING'),
    );
    expect((await tn.trigger({ kind: 'repair' })).json).toMatchObject({
      error: 'JOB_ALREADY_RUNNING',
      details: { run_id: started[0]!.json.run_id },
    });
    expect(await t.collections.runs.countDocuments({ cid: tn.cid })).toBe(1);
    await tn.h.execute(started[0]!.json.run_id as string);
  });

  it.each([
    [
      'mode resume for a reconcile',
      { kind: 'reconcile', mode: 'resume' },
      /mode resume does not apply to kind reconcile/,
    ],
    [
      'mode resume for a repair',
      { kind: 'repair', mode: 'resume' },
      /mode resume does not apply to kind repair/,
    ],
    [
      'verify_attachments for a reconcile',
      { kind: 'reconcile', verify_attachments: true },
      /verify_attachments does not apply to kind reconcile/,
    ],
    [
      'a kind in another case',
      { kind: 'Reconcile' },
      /kind must be one of migrate, dry_run, reconcile, repair/,
    ],
    ['a kind as a list', { kind: ['repair'] }, /kind must be one of/],
    ['a kind with an operator', { kind: { $in: ['repair'] } }, /kind must be one of/],
    ['a run to act on', { kind: 'repair', target_run_id: 'x' }, /target_run_id/],
  ])('refuses %s with 400 and writes nothing', async (_what, extra, message) => {
    const tn = await tenant(3);
    const res = await tn.trigger(extra);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('VALIDATION_ERROR');
    expect(res.json.message).toMatch(message);
    expect(await t.collections.runs.countDocuments({ cid: tn.cid })).toBe(0);
    expect(await t.repos.locks.get(tn.cid)).toBeNull();
  });
});
