/**
 * Rollback of exactly one run (#14 acceptance, DESIGN.md §11.6) over the real parts: the fake
 * CRM over HTTP, the real attachment pipeline into an embedded S3, the HTTP API on a real port
 * for the preview and the trigger, and the page loop driving the runs. A mixed-state fixture —
 * a human note, another run's notes in the same company, another company — must stay
 * byte-identical.
 */
import { BSON, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AttachmentObjectRemover } from '../../../src/attachments/s3-attachment-store.js';
import { seedCdp } from '../../../src/crm/fake/cdp-seed.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../../src/crm/fake/fake-crm-server.js';
import { resolveFakeTenant } from '../../../src/crm/fake/fake-tenant-options.js';
import { createHttpCrmNotesExtractor } from '../../../src/crm/http-crm-notes-extractor.js';
import type { ContactNoteDoc, RunDoc } from '../../../src/db/documents.js';
import { createSilentLogger } from '../../../src/logger.js';
import { type ApiUnderTest, call, startApi } from '../../helpers/api-server.js';
import { startTestS3, type TestS3 } from '../../helpers/embedded-s3.js';
import { startTrackedFakeCrm } from '../../helpers/fake-crm.js';
import {
  createRealAttachments,
  PROXY_BASE_URL,
  type RealAttachments,
} from '../../helpers/real-attachments.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const PAGE_SIZE = 20;
const MAIN = {
  cid: '8901',
  companySsoId: 'co-rollback',
  noteCount: 70,
  seed: 5,
  preset: 'clean' as const,
  mix: { attachmentShare: 0.4 },
};
const OTHER = {
  cid: '8902',
  companySsoId: 'co-other',
  noteCount: 30,
  seed: 6,
  preset: 'clean' as const,
  mix: { attachmentShare: 0.4 },
};
const RACE = {
  cid: '8903',
  companySsoId: 'co-race',
  noteCount: 30,
  seed: 7,
  preset: 'clean' as const,
  mix: { attachmentShare: 0.4 },
};

const STALE = { ...RACE, cid: '8904', companySsoId: 'co-stale', seed: 8 };
const TAKEOVER = { ...MAIN, cid: '8905', companySsoId: 'co-takeover', seed: 9 };

let crm: FakeCrm;
let s3: TestS3;
let real: RealAttachments;
let api: ApiUnderTest;

beforeAll(async () => {
  crm = await startTrackedFakeCrm({ tenants: [MAIN, OTHER, RACE, STALE, TAKEOVER] }, 'file');
  s3 = await startTestS3();
  real = createRealAttachments(s3, crm.port);
  api = await startApi(t, { scope: 'file' });
  for (const tenant of [MAIN, OTHER, RACE, STALE, TAKEOVER]) await seedCdp(t.db, resolveFakeTenant(tenant));
});

afterAll(async () => {
  real.close();
  await api.close();
  await crm.stop();
  await s3.stop();
});

function harness(
  hooks?: Parameters<typeof createRunHarness>[0]['hooks'],
  attachmentObjects: AttachmentObjectRemover = real.attachmentObjects,
) {
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
    attachmentObjects,
    ...(hooks ? { hooks } : {}),
  });
}

type Harness = ReturnType<typeof harness>;

async function migrate(h: Harness, tenant: typeof MAIN, cancelAfterFirstPage = false): Promise<RunDoc> {
  const { runId } = await h.trigger({ cid: tenant.cid, companySsoId: tenant.companySsoId });
  // Asked before a worker claims it: the loop honours it after the first page.
  if (cancelAfterFirstPage)
    await t.collections.runs.updateOne({ _id: runId }, { $set: { cancel_requested: true } });
  await h.execute(runId);
  return (await t.repos.runs.get(runId))!;
}

async function rollback(h: Harness, runId: string): Promise<RunDoc> {
  const res = await call(api, 'POST', `/private/notes/migration/runs/${runId}/rollback`, { body: {} });
  expect(res.status, res.text).toBe(200);
  expect(res.json).toMatchObject({ dry_run: false, rollback_of: runId, status: 'in_progress' });
  expect(await h.execute(res.json.run_id)).toEqual({ kind: 'finished', status: 'completed_success' });
  return (await t.repos.runs.get(res.json.run_id))!;
}

const bytesOf = (docs: readonly ContactNoteDoc[]) =>
  docs.map((d) => Buffer.from(BSON.serialize(d)).toString('hex'));
const notesOf = (filter: Record<string, unknown>) =>
  t.collections.contactNotes.find(filter).sort({ _id: 1 }).toArray();
/**
 * The notes of one run. The company is part of the filter on purpose: SecantusDB (the test server)
 * answers a query on only the second field of the compound index `{company_sso_id,
 * legacy_migration_run_id}` with nothing; the service's own queries always name the company.
 */
const notesOfRun = (company: string, runId: string) =>
  notesOf({ company_sso_id: company, legacy_migration_run_id: runId });
const keysUnder = async (company: string) => (await s3.keys()).filter((k) => k.startsWith(`${company}/`));
/** What a migration wrote, without what differs between two runs (ids and provenance run id). */
const contentOf = (docs: readonly ContactNoteDoc[]) =>
  docs
    .map(({ _id: _ignoredId, legacy_migration_run_id: _ignoredRun, ...rest }) => rest)
    .sort((a, b) => (a.legacy_crm_note_id ?? '').localeCompare(b.legacy_crm_note_id ?? ''));

describe('rollback of one run (#14)', () => {
  it('deletes exactly the untouched notes of the run and their objects as previewed, keeps the edited one, leaves everything else byte-identical, and reopens the CID: migrating again ends as the first time', async () => {
    const h = harness();
    for (const tenant of [MAIN, OTHER]) await h.enableFlag(tenant.cid);
    const company = MAIN.companySsoId;
    await migrate(h, OTHER);
    const otherBefore = bytesOf(await notesOf({ company_sso_id: OTHER.companySsoId }));
    const otherKeys = await keysUnder(OTHER.companySsoId);

    const human: ContactNoteDoc = {
      _id: new ObjectId(),
      company_sso_id: company,
      contact_id: 'someone',
      owner_id: 'sso-1',
      note: '<p>written by a person</p>',
      attachments: [],
      is_deleted: false,
      created_at: new Date('2026-01-02T03:04:05.000Z'),
      updated_at: new Date('2026-01-02T03:04:05.000Z'),
    };
    await t.collections.contactNotes.insertOne(human);
    const earlier = await migrate(h, MAIN, true);
    expect(earlier).toMatchObject({ status: 'cancelled', notes_migrated: PAGE_SIZE });
    const earlierNotes = bytesOf(await notesOfRun(company, earlier._id));
    const run = await migrate(h, MAIN);
    expect(run).toMatchObject({ status: 'completed_success', notes_migrated: MAIN.noteCount - PAGE_SIZE });
    const firstTime = contentOf(
      await notesOf({ company_sso_id: company, legacy_crm_note_id: { $exists: true } }),
    );
    const keysFirstTime = await keysUnder(company);
    expect(keysFirstTime.length).toBeGreaterThan(0);

    // The CID is migrated: another migrate run is refused.
    expect(
      (
        await call(api, 'POST', '/private/notes/migrate', {
          body: { cid: MAIN.cid, company_sso_id: company },
        })
      ).json.error,
    ).toBe('ALREADY_MIGRATED');

    // A person edits one of the run's notes: it must be kept.
    const edited = (await t.collections.contactNotes.findOne({
      company_sso_id: company,
      legacy_migration_run_id: run._id,
    }))!;
    await t.collections.contactNotes.updateOne(
      { _id: edited._id },
      { $set: { owner_id: 'sso-somebody-else' } },
    );
    const runNotes = await notesOfRun(company, run._id);
    const expectedObjects = runNotes
      .filter((n) => !n._id.equals(edited._id))
      .reduce((sum, n) => sum + n.attachments.length, 0);

    const preview = await call(api, 'POST', `/private/notes/migration/runs/${run._id}/rollback`, {
      body: { dry_run: true },
    });
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({
      dry_run: true,
      cid: MAIN.cid,
      company_sso_id: company,
      rollback_of: run._id,
      rolled_back_by: null,
      would_delete: runNotes.length - 1,
      would_keep: 1,
      objects: expectedObjects,
      notes_without_provenance: 0,
    });
    // A preview changes nothing.
    expect((await notesOfRun(company, run._id)).length).toBe(runNotes.length);

    const rb = await rollback(h, run._id);
    expect(rb.rollback).toEqual({
      notes_deleted: preview.json.would_delete,
      notes_kept: preview.json.would_keep,
      objects_deleted: preview.json.objects,
    });
    expect(rb).toMatchObject({
      kind: 'rollback',
      target_run_id: run._id,
      notes_processed: runNotes.length,
      notes_total: runNotes.length,
    });
    expect((await t.repos.runs.get(run._id))?.rolled_back_by).toBe(rb._id);
    // Left: the edited note (reported), the earlier run's notes, the human note, the other company.
    expect((await notesOfRun(company, run._id)).map((n) => n._id)).toEqual([edited._id]);
    const kept = await t.collections.failures.find({ run_id: rb._id }).toArray();
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({
      reason_code: 'ROLLBACK_KEPT_EDITED',
      severity: 'finding',
      kind: 'rollback',
      legacy_crm_note_id: edited.legacy_crm_note_id,
      details: { note_id: edited._id.toHexString(), edited: 'before_rollback', provenance: 'touched' },
    });
    expect(bytesOf(await notesOfRun(company, earlier._id))).toEqual(earlierNotes);
    expect(bytesOf(await notesOf({ _id: human._id }))).toEqual(bytesOf([human]));
    expect(bytesOf(await notesOf({ company_sso_id: OTHER.companySsoId }))).toEqual(otherBefore);
    expect(await keysUnder(OTHER.companySsoId)).toEqual(otherKeys);
    // Objects: exactly those of the deleted notes are gone.
    const keysAfter = new Set(await keysUnder(company));
    const deletedKeys = keysFirstTime.filter((k) => !keysAfter.has(k));
    expect(deletedKeys).toHaveLength(preview.json.objects);
    const stillReferenced = (await notesOf({ company_sso_id: company })).flatMap((n) =>
      n.attachments.map((a) => a.url.slice(PROXY_BASE_URL.length + 1)),
    );
    for (const key of stillReferenced) expect(keysAfter.has(key)).toBe(true);

    // Twice is a no-op with a clear answer.
    const twice = await call(api, 'POST', `/private/notes/migration/runs/${run._id}/rollback`, { body: {} });
    expect(twice.status).toBe(409);
    expect(twice.json).toMatchObject({ error: 'ALREADY_ROLLED_BACK', details: { rolled_back_by: rb._id } });

    // The CID is open again; migrating ends as the first time (the edited note keeps its edit).
    const again = await migrate(h, MAIN);
    expect(again).toMatchObject({
      status: 'completed_success',
      match_pct: run.match_pct,
      notes_migrated: runNotes.length - 1,
      notes_skipped: PAGE_SIZE + 1,
    });
    const secondTime = contentOf(
      await notesOf({ company_sso_id: company, legacy_crm_note_id: { $exists: true } }),
    );
    const editedNow = (await t.collections.contactNotes.findOne({ _id: edited._id }))!;
    expect(secondTime).toEqual(
      firstTime.map((n) =>
        n.legacy_crm_note_id === edited.legacy_crm_note_id ? contentOf([editedNow])[0] : n,
      ),
    );
    expect(await keysUnder(company)).toEqual(keysFirstTime);
  });

  it('keeps a note a person edits between the rollback’s read and its delete (a hook between the page’s prepare and commit)', async () => {
    let target: ContactNoteDoc | null = null;
    const h = harness({
      async beforeCommit(run, page) {
        if (run.kind !== 'rollback' || page !== 1 || target) return;
        target = await t.collections.contactNotes.findOne(
          { company_sso_id: RACE.companySsoId },
          { sort: { _id: 1 } },
        );
        await t.collections.contactNotes.updateOne(
          { _id: target!._id },
          { $set: { note: '<p>edited mid-rollback</p>' } },
        );
      },
    });
    await h.enableFlag(RACE.cid);
    const run = await migrate(h, RACE);
    const preview = await call(api, 'POST', `/private/notes/migration/runs/${run._id}/rollback`, {
      body: { dry_run: true },
    });
    expect(preview.json).toMatchObject({ would_delete: RACE.noteCount, would_keep: 0 });

    const rb = await rollback(h, run._id);
    const edited = target as ContactNoteDoc | null;
    expect(edited).not.toBeNull();
    expect(rb.rollback).toMatchObject({ notes_deleted: RACE.noteCount - 1, notes_kept: 1 });
    const left = await notesOf({ company_sso_id: RACE.companySsoId });
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ _id: edited!._id, note: '<p>edited mid-rollback</p>' });
    expect(await t.collections.failures.findOne({ run_id: rb._id })).toMatchObject({
      reason_code: 'ROLLBACK_KEPT_EDITED',
      details: { edited: 'during_rollback' },
    });
    // Its objects stay with it.
    const keys = new Set(await keysUnder(RACE.companySsoId));
    for (const a of left[0]!.attachments) expect(keys.has(a.url.slice(PROXY_BASE_URL.length + 1))).toBe(true);
    expect(keys.size).toBe(left[0]!.attachments.length);
  });

  it('lets a worker whose run was taken over between its read and its delete write nothing: its write-ahead record is fenced out', async () => {
    await harness().enableFlag(STALE.cid);
    const run = await migrate(harness(), STALE);
    const before = await notesOf({ company_sso_id: STALE.companySsoId });
    const h = harness({
      async beforeCommit(r) {
        if (r.kind !== 'rollback') return;
        // Another worker claims the run here: a newer epoch on the lock and on the run.
        await t.collections.locks.updateOne({ _id: r.cid }, { $inc: { epoch: 1 } });
        await t.collections.runs.updateOne({ _id: r._id }, { $inc: { lease_epoch: 1 } });
      },
    });
    const res = await call(api, 'POST', `/private/notes/migration/runs/${run._id}/rollback`, { body: {} });
    expect(await h.execute(res.json.run_id)).toEqual({ kind: 'lease-lost' });
    expect(await notesOf({ company_sso_id: STALE.companySsoId })).toEqual(before);
    expect((await t.repos.runs.get(res.json.run_id))?.rollback_intents).toBeUndefined();
  });

  it('counts the notes of a page whose worker deleted them and lost its lease before the checkpoint: the next worker finishes their objects and every count is exact', async () => {
    await harness().enableFlag(TAKEOVER.cid);
    const target = await migrate(harness(), TAKEOVER);
    const notes = await notesOfRun(TAKEOVER.companySsoId, target._id);
    const objects = notes.reduce((n, note) => n + note.attachments.length, 0);
    expect(objects).toBeGreaterThan(0);
    // Worker A's second page: its intents are written and its notes deleted; while it deletes
    // their objects its lease expires and worker B takes the run over and finishes it.
    let calls = 0;
    let b: Promise<unknown> | undefined;
    let runId = '';
    const remover: AttachmentObjectRemover = {
      async deleteObjects(keys, signal) {
        calls++;
        if (calls === 2 && !b) {
          await t.collections.locks.updateOne(
            { _id: TAKEOVER.cid },
            { $set: { expires_at: new Date(Date.now() - 1) } },
          );
          b = h.execute(runId, 'worker-b');
          await b;
          return;
        }
        await real.attachmentObjects.deleteObjects(keys, signal);
      },
    };
    const h = harness(undefined, remover);
    const res = await call(api, 'POST', `/private/notes/migration/runs/${target._id}/rollback`, { body: {} });
    runId = res.json.run_id as string;
    expect(await h.execute(runId, 'worker-a')).toEqual({ kind: 'lease-lost' });
    expect(await b).toEqual({ kind: 'finished', status: 'completed_success' });
    const run = (await t.repos.runs.get(runId))!;
    expect(run).toMatchObject({
      owner: 'worker-b',
      notes_total: target.notes_migrated,
      notes_processed: target.notes_migrated,
      progress_pct: 100,
      rollback: { notes_deleted: target.notes_migrated, notes_kept: 0, objects_deleted: objects },
      rollback_intents: null,
    });
    expect(await notesOf({ company_sso_id: TAKEOVER.companySsoId })).toEqual([]);
    expect(await keysUnder(TAKEOVER.companySsoId)).toEqual([]);
  });
});
