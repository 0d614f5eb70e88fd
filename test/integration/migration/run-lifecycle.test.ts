import { describe, expect, it } from 'vitest';

import type { CrmNote } from '../../../src/crm/crm-note.js';
import { makeCreatorUser, makeCrmNote } from '../../fixtures/builders.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);

let cidSeq = 1000;

interface TenantOptions {
  unmappedPersons?: number[];
  outOfScope?: number[];
  pageSize?: number;
  /** Default: the service's (pages fetched ahead). 0 where a test acts at the moment a page is fetched. */
  pagePrefetch?: number;
}

/** A tenant of `count` notes whose persons exist in CDP, except the 1-based positions listed. */
async function tenant(count: number, opts: TenantOptions = {}) {
  const cid = String(cidSeq++);
  const companySsoId = `co-${cid}`;
  const notes: CrmNote[] = Array.from({ length: count }, (_, i) =>
    makeCrmNote({
      id: String(i + 1),
      crmPersonId: String(5000 + i),
      creatorId: '7',
      crmNoteTypeId: opts.outOfScope?.includes(i + 1) ? 4 : 1,
    }),
  );
  const addContacts = async (positions: number[]) => {
    if (positions.length === 0) return;
    await t.collections.contacts.insertMany(
      positions.map((p) => ({
        _id: `${cid}-contact-${p}`,
        company_sso_id: companySsoId,
        crm_data: { id: String(5000 + p - 1) },
      })),
    );
  };
  await addContacts(notes.map((_, i) => i + 1).filter((p) => !opts.unmappedPersons?.includes(p)));
  await t.collections.users.insertOne({
    _id: `${cid}-u7`,
    sso_id: `${cid}-sso-7`,
    company_sso_id: companySsoId,
    name: 'Alice',
    email: 'alice@example.com',
    crm_user_id: '7',
  });
  const crm = createMemoryCrm(notes);
  const h = createRunHarness({
    repos: t.repos,
    extractor: crm,
    pageSize: opts.pageSize ?? 3,
    leaseMs: 5_000,
    heartbeatMs: 1_000,
    ...(opts.pagePrefetch === undefined ? {} : { settings: { pagePrefetch: opts.pagePrefetch } }),
  });
  await h.enableFlag(cid);
  return { cid, companySsoId, crm, h, notes, addContacts };
}

describe('run lifecycle', () => {
  it('migrates 10 notes page by page, moving progress after every page', async () => {
    // Sequential, so the progress seen when page N is fetched is that of page N-1 exactly.
    const { cid, companySsoId, crm, h } = await tenant(10, { pagePrefetch: 0 });
    const progress: number[] = [];
    crm.beforePage = async () => {
      progress.push((await t.repos.runs.latestForCid(cid))?.progress_pct ?? -1);
    };
    const { runId } = await h.trigger({ cid });
    expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });
    expect(await t.repos.runs.get(runId)).toMatchObject({
      status: 'completed_success',
      notes_total: 10,
      notes_processed: 10,
      notes_migrated: 10,
      notes_failed: 0,
      progress_pct: 100,
      match_pct: 1,
      checkpoint: { page: 4, total_pages: 4 },
      closure: { balanced: true, accounted: 10, unaccounted_count: 0 },
    });
    expect(progress).toEqual([0, 30, 60, 90]);
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(10);
    expect(await t.repos.locks.get(cid)).toBeNull();
  });

  it('counts an out-of-scope note type without failing it', async () => {
    const { cid, h } = await tenant(6, { outOfScope: [2, 5] });
    const { runId } = await h.trigger({ cid });
    await h.execute(runId);
    expect(await t.repos.runs.get(runId)).toMatchObject({
      status: 'completed_success',
      out_of_scope_count: 2,
      notes_failed: 0,
      notes_migrated: 4,
      notes_in_scope: 4,
      match_pct: 1,
    });
  });

  it('halts at 1.5% when 3 of 200 notes have no CDP contact, and a re-trigger after adding them succeeds', async () => {
    const { cid, companySsoId, h, addContacts } = await tenant(200, {
      unmappedPersons: [10, 20, 30],
      pageSize: 200,
    });
    const { runId } = await h.trigger({ cid });
    await h.execute(runId);
    const halted = await t.repos.runs.get(runId);
    expect(halted?.status).toBe('halted');
    expect(halted?.failure_rate).toBeCloseTo(0.015, 5);
    expect(halted?.halt_reason).toMatch(/failure_rate 0\.0150 > MAX_FAILURE_RATE 0\.01 after page 1/);
    expect(await t.repos.failures.countByReason(runId)).toEqual({ CONTACT_NOT_MAPPED: 3 });
    expect(await t.repos.locks.get(cid)).toBeNull();

    await addContacts([10, 20, 30]);
    const retry = await h.trigger({ cid });
    await h.execute(retry.runId);
    expect(await t.repos.runs.get(retry.runId)).toMatchObject({
      status: 'completed_success',
      notes_migrated: 3,
      notes_skipped: 197,
      notes_failed: 0,
      match_pct: 1,
    });
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(200);
  });

  it('a full re-run skips every note and still ends completed_success, but only after a failed validation allows it', async () => {
    const { cid, companySsoId, h } = await tenant(9);
    const first = await h.trigger({ cid });
    await h.execute(first.runId);
    // A successful CID refuses a new trigger…
    await expect(h.trigger({ cid })).rejects.toMatchObject({ code: 'ALREADY_MIGRATED', status: 409 });
    // …so the re-run is exercised on a copy of the data under a run that did not succeed.
    await t.collections.runs.updateOne({ _id: first.runId }, { $set: { status: 'completed_with_errors' } });
    const rerun = await h.trigger({ cid });
    await h.execute(rerun.runId);
    expect(await t.repos.runs.get(rerun.runId)).toMatchObject({
      status: 'completed_success',
      notes_migrated: 0,
      notes_skipped: 9,
      match_pct: 1,
    });
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(9);
  });

  it('ends completed_with_errors at 98% match', async () => {
    // 100 notes, 2 unmapped: 2% failures would halt at the default 1%, so allow 5% here.
    const cid = String(cidSeq++);
    const notes = Array.from({ length: 100 }, (_, i) =>
      makeCrmNote({ id: String(i + 1), crmPersonId: String(i + 1) }),
    );
    await t.collections.contacts.insertMany(
      notes.slice(2).map((n) => ({
        _id: `${cid}-${n.crmPersonId}`,
        company_sso_id: `co-${cid}`,
        crm_data: { id: n.crmPersonId! },
      })),
    );
    await t.collections.users.insertOne(makeCreatorUser(`co-${cid}`));
    const h = createRunHarness({
      repos: t.repos,
      extractor: createMemoryCrm(notes),
      maxFailureRate: 0.05,
    });
    await h.enableFlag(cid);
    const { runId } = await h.trigger({ cid });
    await h.execute(runId);
    expect(await t.repos.runs.get(runId)).toMatchObject({
      status: 'completed_with_errors',
      match_pct: 0.98,
      notes_failed: 2,
    });
  });

  it('records VALIDATION_SKIPPED and ends completed_with_errors when CRM cannot give the source count', async () => {
    const { cid, crm, h } = await tenant(4);
    const { runId } = await h.trigger({ cid });
    crm.probeFails = true;
    await h.execute(runId);
    expect(await t.repos.runs.get(runId)).toMatchObject({
      status: 'completed_with_errors',
      match_pct: null,
      notes_migrated: 4,
    });
    expect(await t.repos.failures.countByReason(runId)).toEqual({ VALIDATION_SKIPPED: 1 });
  });

  it('fails with CRM_EXTRACT_FAILED when CRM goes down mid-run, and mode "resume" continues from the checkpoint', async () => {
    const { cid, companySsoId, crm, h } = await tenant(10);
    const { runId } = await h.trigger({ cid });
    crm.failFromPage(3);
    expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'failed' });
    expect(await t.repos.runs.get(runId)).toMatchObject({
      status: 'failed',
      checkpoint: { page: 2 },
      notes_migrated: 6,
      error: { code: 'CRM_EXTRACT_FAILED' },
    });
    expect(await t.repos.failures.countByReason(runId)).toEqual({ CRM_EXTRACT_FAILED: 1 });

    crm.up();
    crm.pagesServed.length = 0;
    const resumed = await h.trigger({ cid, mode: 'resume' });
    await h.execute(resumed.runId);
    expect(crm.pagesServed).toEqual([3, 4]);
    expect(await t.repos.runs.get(resumed.runId)).toMatchObject({
      status: 'completed_success',
      mode: 'resume',
      resumed_from_run_id: runId,
      notes_processed: 10,
      notes_migrated: 10,
      match_pct: 1,
    });
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(10);
  });

  it('refuses mode "resume" when there is nothing to resume', async () => {
    const { cid, h } = await tenant(1);
    await expect(h.trigger({ cid, mode: 'resume' })).rejects.toMatchObject({
      code: 'NO_RUN_TO_RESUME',
      status: 409,
    });
  });

  it('stops after the current page when an operator cancels', async () => {
    // Sequential, so the cancel requested while page 2 is fetched lands during page 2.
    const { cid, crm, h } = await tenant(9, { pagePrefetch: 0 });
    const { runId } = await h.trigger({ cid });
    crm.beforePage = async (page) => {
      if (page === 2) await t.repos.runs.requestCancel(cid, new Date());
    };
    await h.execute(runId);
    expect(await t.repos.runs.get(runId)).toMatchObject({
      status: 'cancelled',
      checkpoint: { page: 2 },
      notes_processed: 6,
    });
    expect(await t.repos.locks.get(cid)).toBeNull();
  });
});

describe('one CID, one worker', () => {
  it('lets only one of two workers process a run; the other is told to retry later', async () => {
    const { cid, companySsoId, crm, h } = await tenant(9);
    const { runId } = await h.trigger({ cid });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    crm.beforePage = (page) => (page === 1 ? gate : undefined);
    const a = h.execute(runId, 'worker-a');
    // B arrives while A holds the lease.
    const { waitFor } = await import('../../helpers/wait-for.js');
    await waitFor(
      () => t.repos.locks.get(cid),
      (l) => l?.owner === 'worker-a',
      { what: 'worker A to hold the lease' },
    );
    const b = await h.execute(runId, 'worker-b');
    expect(b).toMatchObject({ kind: 'retry-later' });
    release();
    expect(await a).toEqual({ kind: 'finished', status: 'completed_success' });
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: companySsoId })).toBe(9);
    // A re-delivered job for the finished run does nothing.
    expect(await h.execute(runId, 'worker-b')).toMatchObject({
      kind: 'nothing-to-do',
      reason: 'run is completed_success',
    });
  });

  it('fences out a worker whose lease expired: its writes are rejected and the run is the new owner’s', async () => {
    const { cid, companySsoId, crm, h } = await tenant(9);
    const { runId } = await h.trigger({ cid });
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    let bDone: Promise<unknown> | undefined;
    // A pauses inside page 2 (like SIGSTOP): its lease expires and B takes over and finishes.
    crm.beforePage = async (page) => {
      if (page !== 2 || bDone) return;
      await t.collections.locks.updateOne({ _id: cid }, { $set: { expires_at: new Date(Date.now() - 1) } });
      crm.beforePage = undefined;
      bDone = h.execute(runId, 'worker-b');
      await bDone;
      release();
    };
    const a = h.execute(runId, 'worker-a');
    await paused;
    expect(await bDone).toEqual({ kind: 'finished', status: 'completed_success' });
    expect(await a).toEqual({ kind: 'lease-lost' });
    const run = await t.repos.runs.get(runId);
    expect(run).toMatchObject({
      status: 'completed_success',
      owner: 'worker-b',
      lease_epoch: 2,
      notes_processed: 9,
    });
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: companySsoId })).toBe(9);
  });
});

describe('the dry run on the shared loop (#13)', () => {
  it('stops after the current page when an operator cancels, having written nothing but its records', async () => {
    const { cid, companySsoId, crm, h } = await tenant(9, { pagePrefetch: 0, unmappedPersons: [1] });
    const { runId } = await h.trigger({ cid, kind: 'dry_run' });
    crm.beforePage = async (page) => {
      if (page === 2) await t.repos.runs.requestCancel(cid, new Date());
    };
    await h.execute(runId);
    expect(await t.repos.runs.get(runId)).toMatchObject({
      kind: 'dry_run',
      status: 'cancelled',
      checkpoint: { page: 2 },
      notes_processed: 6,
      notes_migrated: 5,
      notes_failed: 1,
      forecast: { pages: 2, outcome: null },
    });
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: companySsoId })).toBe(0);
    expect(await t.collections.failures.countDocuments({ run_id: runId, kind: 'dry_run' })).toBe(1);
    expect(await t.repos.locks.get(cid)).toBeNull();
  });

  it('fences out a dry-run worker whose lease expired: the forecast is the new owner’s, nothing counted twice', async () => {
    const { cid, companySsoId, crm, h } = await tenant(9, { unmappedPersons: [4, 8] });
    const { runId } = await h.trigger({ cid, kind: 'dry_run' });
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    let bDone: Promise<unknown> | undefined;
    crm.beforePage = async (page) => {
      if (page !== 2 || bDone) return;
      await t.collections.locks.updateOne({ _id: cid }, { $set: { expires_at: new Date(Date.now() - 1) } });
      crm.beforePage = undefined;
      bDone = h.execute(runId, 'worker-b');
      await bDone;
      release();
    };
    const a = h.execute(runId, 'worker-a');
    await paused;
    expect(await bDone).toEqual({ kind: 'finished', status: 'completed_success' });
    expect(await a).toEqual({ kind: 'lease-lost' });
    const run = await t.repos.runs.get(runId);
    expect(run).toMatchObject({
      owner: 'worker-b',
      notes_processed: 9,
      notes_migrated: 7,
      notes_failed: 2,
      problem_tally: { by_reason: { CONTACT_NOT_MAPPED: 2 } },
      forecast: {
        pages: 3,
        persons_seen: { ids: expect.any(Array) },
        outcome: { status: 'halted', halt_page: 2 },
      },
    });
    expect(run?.forecast?.persons_seen.ids).toHaveLength(9);
    expect(run?.forecast?.persons_found.ids).toHaveLength(7);
    expect(await t.repos.failures.countByReason(runId)).toEqual({ CONTACT_NOT_MAPPED: 2 });
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: companySsoId })).toBe(0);
  });
});

describe('trigger guards', () => {
  it('refuses a CID whose flag is off, and one that is already running', async () => {
    const { cid, h } = await tenant(3);
    await expect(h.trigger({ cid: '999999' })).rejects.toMatchObject({ code: 'FLAG_DISABLED', status: 403 });
    const first = await h.trigger({ cid });
    await expect(h.trigger({ cid })).rejects.toMatchObject({
      code: 'JOB_ALREADY_RUNNING',
      status: 409,
      details: { run_id: first.runId },
    });
  });

  it('replaces a lock whose lease expired and fails the abandoned run', async () => {
    const { cid, h } = await tenant(3);
    const first = await h.trigger({ cid });
    await t.collections.locks.updateOne({ _id: cid }, { $set: { expires_at: new Date(Date.now() - 1_000) } });
    const second = await h.trigger({ cid });
    expect((await t.repos.locks.get(cid))?.run_id).toBe(second.runId);
    expect(await t.repos.runs.get(first.runId)).toMatchObject({
      status: 'failed',
      error: { code: 'LEASE_LOST' },
    });
    // The abandoned run's job, if it ever runs, does nothing.
    expect(await h.execute(first.runId)).toMatchObject({ kind: 'nothing-to-do' });
  });
});
