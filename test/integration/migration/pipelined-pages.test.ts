/**
 * The run loop with pages fetched and prepared ahead (DESIGN.md §11.8, #15): writes and
 * checkpoints strictly in page order while up to k pages are in flight, and a page prepared
 * ahead of a stop (halt, cancel, lost lease) writes nothing.
 */
import { describe, expect, it } from 'vitest';

import type { CrmNote } from '../../../src/crm/crm-note.js';
import type { Repositories } from '../../../src/db/repositories.js';
import { normalizeNoteHtml } from '../../../src/normalize/normalize-note-html.js';
import { makeCreatorUser, makeCrmNote } from '../../fixtures/builders.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
let cidSeq = 8800;

interface Probe {
  /** Pages in the order their notes reached `createNotesBatch`. */
  writes: number[];
  /** Checkpoint page after each fenced page update, in order. */
  checkpoints: number[];
  /** CRM requests in flight at most. */
  peakFetches: number;
  /** Note ids whose HTML was normalized (the read side of a page), in order. */
  normalized: string[];
  /** Holds the write of a page until released. */
  holdWriteOf?: number;
  releaseWrite?: () => void;
}

async function tenant(count: number, pageSize: number, opts: { unmapped?: (i: number) => boolean } = {}) {
  const cid = String(cidSeq++);
  const companySsoId = `co-${cid}`;
  const notes: CrmNote[] = Array.from({ length: count }, (_, i) =>
    makeCrmNote({ id: String(i + 1), crmPersonId: `${cid}-p${i}`, note: `<b>note ${i + 1}</b>` }),
  );
  await t.collections.contacts.insertMany(
    notes
      .filter((_, i) => !opts.unmapped?.(i))
      .map((n) => ({
        _id: `${n.crmPersonId}-c`,
        company_sso_id: companySsoId,
        crm_data: { id: n.crmPersonId! },
      })),
  );
  await t.collections.users.insertOne(makeCreatorUser(companySsoId));
  const crm = createMemoryCrm(notes);
  const probe: Probe = { writes: [], checkpoints: [], peakFetches: 0, normalized: [] };
  let inFlight = 0;
  const serve = crm.listPersonNotes.bind(crm);
  crm.listPersonNotes = async (...args) => {
    inFlight++;
    probe.peakFetches = Math.max(probe.peakFetches, inFlight);
    try {
      return await serve(...args);
    } finally {
      inFlight--;
    }
  };
  const repos: Repositories = {
    ...t.repos,
    contactNotes: {
      ...t.repos.contactNotes,
      async createNotesBatch(batch) {
        const page = Math.ceil(Number(batch[0]?.legacy_crm_note_id ?? '0') / pageSize);
        if (page === probe.holdWriteOf) await new Promise<void>((r) => (probe.releaseWrite = r));
        probe.writes.push(page);
        return t.repos.contactNotes.createNotesBatch(batch);
      },
    },
    runs: {
      ...t.repos.runs,
      async recordPage(runId, epoch, checkpoint, counters, runFields, now) {
        const ok = await t.repos.runs.recordPage(runId, epoch, checkpoint, counters, runFields, now);
        if (ok) probe.checkpoints.push(checkpoint.page);
        return ok;
      },
    },
  };
  const h = createRunHarness({
    repos,
    extractor: crm,
    pageSize,
    settings: { pagePrefetch: 2 },
    normalizeHtml: (html) => {
      probe.normalized.push(/note (\d+)/.exec(html)?.[1] ?? '?');
      return normalizeNoteHtml(html);
    },
  });
  await h.enableFlag(cid);
  return { cid, companySsoId, crm, h, probe };
}

describe('pipelined pages', () => {
  it('writes and checkpoints pages in order while up to k are fetched ahead, even when later pages arrive first', async () => {
    const { cid, companySsoId, crm, h, probe } = await tenant(40, 5);
    // Odd pages answer late, so page N+1 is often ready before page N.
    crm.beforePage = (page) => (page % 2 ? new Promise((r) => setTimeout(r, 15)) : undefined);
    const { runId } = await h.trigger({ cid });
    expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });
    const pages = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(probe.writes).toEqual(pages);
    expect(probe.checkpoints).toEqual(pages);
    // The page being worked on + PAGE_PREFETCH (2) ahead; the probe at the end is one more.
    expect(probe.peakFetches).toBeGreaterThanOrEqual(2);
    expect(probe.peakFetches).toBeLessThanOrEqual(3);
    expect(crm.pagesServed.filter((p) => p > 8)).toEqual([]);
    expect(await t.repos.runs.get(runId)).toMatchObject({ notes_migrated: 40, notes_processed: 40 });
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(40);
  });

  it('prepares page N+1 while page N is written, but page N+1 writes only after N is checkpointed', async () => {
    const { cid, h, probe } = await tenant(15, 5);
    probe.holdWriteOf = 1;
    const { runId } = await h.trigger({ cid });
    const run = h.execute(runId);
    await waitFor(
      () => Promise.resolve(probe.releaseWrite),
      (r) => r !== undefined,
      { what: 'page 1 to reach its write' },
    );
    // Page 2 is prepared meanwhile (its notes normalized), while page 1 is still being written.
    await waitFor(
      () => Promise.resolve(probe.normalized),
      (ids) => ['6', '7', '8', '9', '10'].every((id) => ids.includes(id)),
      { what: 'page 2 to be prepared during page 1’s write' },
    );
    expect(probe.writes).toEqual([]);
    expect(probe.checkpoints).toEqual([]);
    // …and only one page ahead is prepared: page 3's notes were fetched but not worked on.
    expect(probe.normalized.filter((id) => Number(id) > 10)).toEqual([]);
    probe.releaseWrite!();
    expect(await run).toEqual({ kind: 'finished', status: 'completed_success' });
    expect(probe.writes).toEqual([1, 2, 3]);
  });

  it('a halt after page 1 drops the pages prepared ahead: nothing of them is written or logged', async () => {
    // Every note of page 1 lacks a contact (a halt by rate), pages 2 and 3 are clean.
    const { cid, companySsoId, crm, h, probe } = await tenant(15, 5, { unmapped: (i) => i < 5 });
    const { runId } = await h.trigger({ cid });
    expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'halted' });
    expect(crm.pagesServed).toContain(2);
    // One write: page 1's, empty (every note failed); page 2 was fetched and prepared, never written.
    expect(probe.writes).toHaveLength(1);
    expect(probe.normalized).toContain('6');
    expect(probe.checkpoints).toEqual([1]);
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(0);
    const failures = await t.collections.failures.find({ run_id: runId }).toArray();
    expect(failures.map((f) => f.legacy_crm_note_id).sort()).toEqual(['1', '2', '3', '4', '5']);
  });

  it('a cancel between pages drops the page prepared ahead', async () => {
    const { cid, companySsoId, h, probe } = await tenant(15, 5);
    probe.holdWriteOf = 1;
    const { runId } = await h.trigger({ cid });
    const run = h.execute(runId);
    await waitFor(
      () => Promise.resolve(probe.releaseWrite),
      (r) => r !== undefined,
      { what: 'page 1 to reach its write' },
    );
    await t.repos.runs.requestCancel(cid, new Date());
    probe.releaseWrite!();
    expect(await run).toEqual({ kind: 'finished', status: 'cancelled' });
    expect(probe.writes).toEqual([1]);
    expect(await t.repos.runs.get(runId)).toMatchObject({ checkpoint: { page: 1 }, notes_processed: 5 });
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(5);
  });

  it('a worker that lost its lease while a page was prepared ahead writes nothing of that page', async () => {
    const { cid, companySsoId, h, probe } = await tenant(15, 5);
    probe.holdWriteOf = 1;
    const { runId } = await h.trigger({ cid });
    const zombie = h.execute(runId, 'worker-a');
    await waitFor(
      () => Promise.resolve(probe.releaseWrite),
      (r) => r !== undefined,
      { what: 'page 1 to reach its write' },
    );
    // Another worker takes the CID over (as after an expired lease): a newer epoch on lock and run.
    const lock = await t.repos.locks.get(cid);
    await t.collections.locks.updateOne({ _id: cid }, { $set: { expires_at: new Date(0) } });
    const taken = await t.repos.locks.claim({
      cid,
      runId,
      owner: 'worker-b',
      leaseMs: 30_000,
      now: new Date(),
    });
    expect(taken?.epoch).toBe((lock?.epoch ?? 0) + 1);
    await t.repos.runs.stampLease(
      runId,
      taken!.epoch,
      'worker-b',
      (await t.repos.runs.get(runId))!.config!,
      new Date(),
    );
    probe.releaseWrite!();
    expect(await zombie).toEqual({ kind: 'lease-lost' });
    // Page 1's write was already under way (idempotent upserts); page 2, prepared ahead, never wrote.
    expect(probe.writes).toEqual([1]);
    expect(await t.repos.contactNotes.countLegacyNotes(companySsoId)).toBe(5);
    expect(await t.repos.runs.get(runId)).toMatchObject({ status: 'in_progress', checkpoint: { page: 0 } });
  });
});
