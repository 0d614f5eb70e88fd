import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { EMPTY_COUNTERS } from '../../../src/db/runs-repository.js';
import { makeConfigStamp, makeNewRun } from '../../fixtures/builders.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const stamp = makeConfigStamp();

async function newRun(cid: string) {
  const runId = randomUUID();
  await t.repos.runs.create(makeNewRun({ runId, cid }), at(0));
  return runId;
}

describe('CID lock document', () => {
  it('lets exactly one of 20 concurrent triggers take a CID', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.repos.locks.insertQueued('race-cid', `run-${i}`, at(60), at(0))),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    const losers = results.filter((r) => !r.acquired);
    expect(losers).toHaveLength(19);
    const winner = results.find((r) => r.acquired);
    for (const l of losers)
      expect(l.acquired ? null : l.existing?.run_id).toBe(winner?.acquired ? winner.lock.run_id : '');
  });

  it('hands a stale lock to exactly one new run, with a higher epoch', async () => {
    await t.repos.locks.insertQueued('stale-cid', 'old-run', at(10), at(0));
    const replaced = await Promise.all([
      t.repos.locks.replaceStale('stale-cid', 'old-run', 'new-a', at(100), at(20)),
      t.repos.locks.replaceStale('stale-cid', 'old-run', 'new-b', at(100), at(20)),
    ]);
    expect(replaced.filter(Boolean)).toHaveLength(1);
    const lock = await t.repos.locks.get('stale-cid');
    expect(['new-a', 'new-b']).toContain(lock?.run_id);
    expect(lock?.epoch).toBe(1);
  });

  it('is claimed when queued or expired, renewed only by its holder, released only by its holder', async () => {
    await t.repos.locks.insertQueued('lease-cid', 'run-1', at(60), at(0));
    const a = await t.repos.locks.claim({
      cid: 'lease-cid',
      runId: 'run-1',
      owner: 'worker-a',
      leaseMs: 10_000,
      now: at(1),
    });
    expect(a).toMatchObject({ state: 'running', owner: 'worker-a', epoch: 1 });
    // B cannot take a live lease.
    expect(
      await t.repos.locks.claim({
        cid: 'lease-cid',
        runId: 'run-1',
        owner: 'worker-b',
        leaseMs: 10_000,
        now: at(5),
      }),
    ).toBeNull();
    // After expiry B takes it; A's renew and release no longer match.
    const b = await t.repos.locks.claim({
      cid: 'lease-cid',
      runId: 'run-1',
      owner: 'worker-b',
      leaseMs: 10_000,
      now: at(12),
    });
    expect(b).toMatchObject({ owner: 'worker-b', epoch: 2 });
    expect(await t.repos.locks.renew('lease-cid', 'run-1', 1, 10_000, at(13))).toBe(false);
    expect(await t.repos.locks.release('lease-cid', 'run-1', 1)).toBe(false);
    expect(await t.repos.locks.renew('lease-cid', 'run-1', 2, 10_000, at(13))).toBe(true);
    expect(await t.repos.locks.release('lease-cid', 'run-1', 2)).toBe(true);
    expect(await t.repos.locks.get('lease-cid')).toBeNull();
  });

  it('never lets a worker claim the lock for another run', async () => {
    await t.repos.locks.insertQueued('other-cid', 'run-x', at(60), at(0));
    expect(
      await t.repos.locks.claim({
        cid: 'other-cid',
        runId: 'run-y',
        owner: 'w',
        leaseMs: 1000,
        now: at(100),
      }),
    ).toBeNull();
  });
});

describe('run document fencing', () => {
  it('accepts progress only from the current lease epoch', async () => {
    const runId = await newRun('fence-cid');
    expect(await t.repos.runs.stampLease(runId, 1, 'worker-a', stamp, at(1))).toMatchObject({
      lease_epoch: 1,
      owner: 'worker-a',
    });
    expect(await t.repos.runs.stampLease(runId, 2, 'worker-b', stamp, at(2))).toMatchObject({
      lease_epoch: 2,
    });
    // A stale stamp never moves the epoch back.
    expect(await t.repos.runs.stampLease(runId, 1, 'worker-a', stamp, at(3))).toBeNull();

    const counters = { ...EMPTY_COUNTERS, notes_processed: 10, notes_migrated: 10 };
    expect(await t.repos.runs.recordPage(runId, 1, { page: 1, total_pages: 5 }, counters, {}, at(4))).toBe(
      false,
    );
    expect(await t.repos.runs.finish(runId, 1, { status: 'completed_success' }, at(4))).toBe(false);
    expect(await t.repos.runs.recordPage(runId, 2, { page: 1, total_pages: 5 }, counters, {}, at(4))).toBe(
      true,
    );
    const run = await t.repos.runs.get(runId);
    expect(run).toMatchObject({
      status: 'in_progress',
      notes_processed: 10,
      checkpoint: { page: 1, total_pages: 5 },
      started_at: at(1),
    });
  });

  it('writes progress as absolute values, so repeating a page write changes nothing', async () => {
    const runId = await newRun('repeat-cid');
    await t.repos.runs.stampLease(runId, 1, 'w', stamp, at(1));
    const counters = {
      ...EMPTY_COUNTERS,
      notes_processed: 7,
      notes_migrated: 6,
      notes_failed: 1,
      failure_rate: 1 / 7,
    };
    await t.repos.runs.recordPage(runId, 1, { page: 1, total_pages: 2 }, counters, {}, at(2));
    await t.repos.runs.recordPage(runId, 1, { page: 1, total_pages: 2 }, counters, {}, at(2));
    expect(await t.repos.runs.get(runId)).toMatchObject({
      notes_processed: 7,
      notes_migrated: 6,
      notes_failed: 1,
    });
  });

  it('freezes a run at its terminal status', async () => {
    const runId = await newRun('final-cid');
    await t.repos.runs.stampLease(runId, 1, 'w', stamp, at(1));
    expect(
      await t.repos.runs.finish(
        runId,
        1,
        { status: 'halted', haltReason: 'failure_rate 0.015 > 0.01' },
        at(2),
      ),
    ).toBe(true);
    expect(
      await t.repos.runs.recordPage(runId, 1, { page: 2, total_pages: 2 }, EMPTY_COUNTERS, {}, at(3)),
    ).toBe(false);
    expect(await t.repos.runs.stampLease(runId, 2, 'w2', stamp, at(3))).toBeNull();
    expect(await t.repos.runs.get(runId)).toMatchObject({
      status: 'halted',
      finished_at: at(2),
      halt_reason: 'failure_rate 0.015 > 0.01',
    });
  });

  it('finds the latest run, the run history and the run a resume continues', async () => {
    const cid = 'history-cid';
    const first = randomUUID();
    const second = randomUUID();
    await t.repos.runs.create(makeNewRun({ runId: first, cid, companySsoId: 'co' }), at(1));
    await t.repos.runs.stampLease(first, 1, 'w', stamp, at(1));
    await t.repos.runs.finish(
      first,
      1,
      { status: 'failed', error: { code: 'CRM_EXTRACT_FAILED', message: 'down' } },
      at(2),
    );
    await t.repos.runs.create(
      makeNewRun({
        runId: second,
        cid,
        companySsoId: 'co',
        mode: 'resume',
        resumedFromRunId: first,
        checkpointPage: 3,
      }),
      at(3),
    );
    expect((await t.repos.runs.latestForCid(cid))?._id).toBe(second);
    expect((await t.repos.runs.listForCid(cid, 10)).map((r) => r._id)).toEqual([second, first]);
    expect((await t.repos.runs.latestResumableForCid(cid, 'migrate'))?._id).toBe(first);
    expect(await t.repos.runs.latestForCid('unknown-cid')).toBeNull();
  });

  it('records a cancel request only on a run in progress', async () => {
    const runId = await newRun('cancel-cid');
    expect((await t.repos.runs.requestCancel('cancel-cid', at(5)))?._id).toBe(runId);
    expect((await t.repos.runs.get(runId))?.cancel_requested).toBe(true);
    expect(await t.repos.runs.requestCancel('nothing-running', at(5))).toBeNull();
  });
});
