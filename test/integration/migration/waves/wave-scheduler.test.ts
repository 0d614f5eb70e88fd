/**
 * The wave scheduler (#16) on the test database, without workers: members start through the real
 * trigger (its guards, the CID lock, the run document) and the test plays the worker by ending
 * their runs. Canary gate, stop rule with diagnoses, resume, skip reasons, busy CIDs, cancel,
 * fencing and at-most-once starts across a takeover.
 */
import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import type { DiagnosisDoc, RunDoc, WaveDoc } from '../../../../src/db/documents.js';
import { MIGRATION_FLAG, type TerminalRunStatus } from '../../../../src/domain.js';
import { createSilentLogger } from '../../../../src/logger.js';
import {
  cancelWave,
  createWave,
  resumeWave,
  type WaveCommandDeps,
} from '../../../../src/migration/waves/wave-commands.js';
import { createWaveCommandDeps, createWaveSchedulerDeps } from '../../../../src/migration/waves/wave-deps.js';
import {
  runWaveScheduler,
  type WaveSchedulerDeps,
  type WaveSchedulerExit,
} from '../../../../src/migration/waves/wave-scheduler.js';
import { makeConfigStamp } from '../../../fixtures/builders.js';
import { createRecordingQueue, createRecordingWaveQueue } from '../../../helpers/api-server.js';
import { useTestDb } from '../../../helpers/test-db.js';
import { waitFor } from '../../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const logger = createSilentLogger();
let cidSeq = 52_000;

interface Running {
  exit: Promise<WaveSchedulerExit>;
  stop: AbortController;
}
const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.stop.abort();
    await r.exit;
  }
});

/** Scheduler ticks so far (every scheduler of this file): "several ticks later" without a fixed sleep. */
let ticks = 0;
async function afterTicks(n: number): Promise<void> {
  const until = ticks + n;
  await waitFor(
    () => ticks,
    (seen) => seen >= until,
    { timeoutMs: 15_000, intervalMs: 10, what: `${n} more scheduler ticks` },
  );
}

function schedulerDeps(owner = `test-${randomUUID().slice(0, 6)}`): WaveSchedulerDeps {
  return createWaveSchedulerDeps({
    observer: { sampled: () => void ticks++ },
    repos: t.repos,
    trigger: {
      extractor: { probeOrganization: () => Promise.resolve({ total: 10 }) },
      jobs: createRecordingQueue(),
      pageSize: 5,
      configStamp: makeConfigStamp({ page_size: 5 }),
      logger,
      now: () => new Date(),
    },
    budgetKey: null,
    owner,
    config: { leaseMs: 2_000, heartbeatMs: 500, tickMs: 40, retryLaterMs: 200 },
  });
}

function commandDeps(): WaveCommandDeps & { jobs: ReturnType<typeof createRecordingWaveQueue> } {
  const jobs = createRecordingWaveQueue();
  return { ...createWaveCommandDeps({ repos: t.repos, jobs, logger, now: () => new Date() }), jobs };
}

/** Tenants with their flag on (unless `flagOff`), fresh CIDs each time. */
async function tenants(n: number, flagOff: number[] = []) {
  const list = Array.from({ length: n }, () => {
    const cid = String(++cidSeq);
    return { cid, companySsoId: `co-${cid}` };
  });
  for (const [i, m] of list.entries()) {
    if (!flagOff.includes(i)) await t.repos.featureFlags.setFlag(m.cid, MIGRATION_FLAG, true, new Date());
  }
  return list;
}

async function newWave(
  members: { cid: string; companySsoId: string }[],
  options: { canary?: number; parallel?: number; stopAfter?: number } = {},
) {
  return createWave(commandDeps(), {
    members,
    kind: 'migrate',
    canary: options.canary ?? 1,
    maxParallelTenants: options.parallel ?? 2,
    stopAfterFailedTenants: options.stopAfter ?? 1,
    createdBy: 'test',
  });
}

/** Runs a scheduler job as Agenda would: again after a retry-later (an older scheduler still handing over). */
function startScheduler(waveId: string, generation: number, deps = schedulerDeps()): Running {
  const stop = new AbortController();
  const exit = (async () => {
    for (;;) {
      const result = await runWaveScheduler(deps, { waveId, generation }, { shutdown: stop.signal });
      if (result.kind !== 'retry-later' || stop.signal.aborted) return result;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const r = { exit, stop };
  running.push(r);
  return r;
}

const wave = async (id: string) => (await t.repos.waves.get(id)) as WaveDoc;
const until = (id: string, ok: (w: WaveDoc) => boolean, what: string) =>
  waitFor(() => wave(id), ok, { timeoutMs: 15_000, what });
const runsOf = (cid: string) => t.collections.runs.find({ cid }).toArray();

/** Plays the worker: ends a member's (unclaimed) run. */
async function endRun(runId: string | null, status: TerminalRunStatus, fields: Partial<RunDoc> = {}) {
  if (!runId) throw new Error('member has no run');
  await t.collections.runs.updateOne(
    { _id: runId },
    {
      $set: {
        status,
        finished_at: new Date(),
        updated_at: new Date(),
        notes_total: 10,
        notes_processed: 10,
        progress_pct: 100,
        ...fields,
      },
    },
  );
  const run = await t.collections.runs.findOne({ _id: runId });
  if (run) await t.repos.locks.releaseQueued(run.cid, runId);
}

describe('wave scheduler: canaries and parallelism', () => {
  it('starts only the canary, then the rest at most max_parallel at a time, and completes', async () => {
    const members = await tenants(4);
    const w = await newWave(members, { canary: 1, parallel: 2 });
    const s = startScheduler(w._id, 1);
    const canaryRunning = await until(w._id, (x) => x.members[0]?.state === 'running', 'the canary to run');
    expect(canaryRunning.members[0]).toMatchObject({ canary: true, attempts: 1 });
    // Several ticks later the others are still waiting behind the canary gate.
    await afterTicks(5);
    expect((await wave(w._id)).members.slice(1).map((m) => m.state)).toEqual([
      'pending',
      'pending',
      'pending',
    ]);
    const canaryRun = (await runsOf(members[0]!.cid))[0];
    expect(canaryRun).toMatchObject({ triggered_by: `wave:${w._id}`, mode: 'restart', kind: 'migrate' });

    await endRun(canaryRunning.members[0]!.run_id, 'completed_success');
    const two = await until(
      w._id,
      (x) => x.members.filter((m) => m.state === 'running').length === 2,
      'two members',
    );
    expect(two.members.map((m) => m.state)).toEqual(['completed_success', 'running', 'running', 'pending']);
    await endRun(two.members[1]!.run_id, 'completed_success');
    const third = await until(w._id, (x) => x.members[3]?.state === 'running', 'the last member');
    await endRun(third.members[2]!.run_id, 'completed_success');
    await endRun(third.members[3]!.run_id, 'completed_with_errors');
    expect(await s.exit).toMatchObject({ kind: 'finished', reason: 'wave completed' });
    const done = await wave(w._id);
    expect(done.state).toBe('completed');
    expect(done.active_cids).toBeUndefined();
    expect(done.members.map((m) => m.state)).toEqual([
      'completed_success',
      'completed_success',
      'completed_success',
      'completed_with_errors',
    ]);
    for (const m of members) expect(await runsOf(m.cid)).toHaveLength(1);
  });

  it('skips members a trigger guard refuses for good, and the next member becomes the canary', async () => {
    const members = await tenants(3, [0]);
    // Member 1 was migrated before: ALREADY_MIGRATED.
    await t.repos.runs.create(
      {
        runId: randomUUID(),
        cid: members[1]!.cid,
        companySsoId: members[1]!.companySsoId,
        kind: 'migrate',
        mode: 'restart',
        triggeredBy: 'test',
        config: makeConfigStamp(),
        resumedFromRunId: null,
        checkpointPage: 0,
        pageSize: 5,
      },
      new Date(),
    );
    const old = (await runsOf(members[1]!.cid))[0]!;
    await endRun(old._id, 'completed_success');
    const w = await newWave(members, { canary: 1, parallel: 3 });
    startScheduler(w._id, 1);
    const x = await until(w._id, (d) => d.members[2]?.state === 'running', 'the third member to run');
    expect(x.members[0]).toMatchObject({
      state: 'skipped',
      canary: false,
      reason: { code: 'FLAG_DISABLED' },
    });
    expect(x.members[1]).toMatchObject({
      state: 'skipped',
      canary: false,
      reason: { code: 'ALREADY_MIGRATED' },
    });
    expect(x.members[2]).toMatchObject({ canary: true });
  });

  it('retries a member whose CID is busy, once the CID is free, with one run', async () => {
    const members = await tenants(1);
    const blocker = randomUUID();
    await t.repos.locks.insertQueued(members[0]!.cid, blocker, new Date(Date.now() + 60_000), new Date());
    await t.repos.runs.create(
      {
        runId: blocker,
        cid: members[0]!.cid,
        companySsoId: members[0]!.companySsoId,
        kind: 'migrate',
        mode: 'restart',
        triggeredBy: 'someone',
        config: makeConfigStamp(),
        resumedFromRunId: null,
        checkpointPage: 0,
        pageSize: 5,
      },
      new Date(),
    );
    // A live run holds the CID (a worker claimed it): the trigger refuses JOB_ALREADY_RUNNING.
    await t.repos.locks.claim({
      cid: members[0]!.cid,
      runId: blocker,
      owner: 'w',
      leaseMs: 60_000,
      now: new Date(),
    });
    const w = await newWave(members, { canary: 0, parallel: 1 });
    startScheduler(w._id, 1);
    const refused = await until(
      w._id,
      (d) => d.members[0]?.reason?.code === 'JOB_ALREADY_RUNNING',
      'a refusal',
    );
    expect(refused.members[0]).toMatchObject({ state: 'pending', run_id: null });
    await endRun(blocker, 'failed');
    const lock = await t.repos.locks.get(members[0]!.cid);
    await t.repos.locks.release(members[0]!.cid, blocker, lock!.epoch);
    await until(w._id, (d) => d.members[0]?.state === 'running', 'the member to start after the CID is free');
    const runs = await runsOf(members[0]!.cid);
    expect(runs.filter((r) => r.triggered_by === `wave:${w._id}`)).toHaveLength(1);
  });
});

describe('wave scheduler: stop rule and resume', () => {
  it('pauses after k halted or failed members with their diagnoses, starts nothing more, and resume retries them', async () => {
    const members = await tenants(5);
    const w = await newWave(members, { canary: 0, parallel: 3, stopAfter: 2 });
    const first = startScheduler(w._id, 1);
    const three = await until(
      w._id,
      (d) => d.members.filter((m) => m.state === 'running').length === 3,
      '3 running',
    );
    await endRun(three.members[0]!.run_id, 'halted', {
      halt_reason: 'failure rate 0.5 > 0.01',
      failure_rate: 0.5,
    });
    // One halt is below the stop rule: the freed place goes to the next member.
    const next = await until(
      w._id,
      (d) => d.members[3]?.state === 'running',
      'the next member after one halt',
    );
    expect(next.state).toBe('running');
    const cause: DiagnosisDoc = {
      reason_code: 'CONTACT_NOT_MAPPED',
      share: 0.98,
      count: 49,
      sample_note_ids: ['n1', 'n2'],
      hint: 'contacts of company X are not in CDP',
      systemic: true,
    };
    await endRun(three.members[1]!.run_id, 'failed', {
      error: { code: 'CRM_EXTRACT_FAILED', message: 'x' },
      failure_rate: 0.98,
      halt_diagnosis: cause,
    });
    const paused = await until(w._id, (d) => d.state === 'paused', 'the stop rule to pause the wave');
    expect(paused.pause).toMatchObject({ cause: 'stop_rule', by: 'stop rule' });
    expect(paused.pause?.members).toEqual([
      expect.objectContaining({
        cid: members[0]!.cid,
        state: 'halted',
        diagnosis: {
          cause: null,
          halt_reason: 'failure rate 0.5 > 0.01',
          failure_rate: 0.5,
          error: null,
          would_halt: null,
        },
      }),
      expect.objectContaining({
        cid: members[1]!.cid,
        state: 'failed',
        diagnosis: {
          cause,
          halt_reason: null,
          failure_rate: 0.98,
          error: { code: 'CRM_EXTRACT_FAILED', message: 'x' },
          would_halt: null,
        },
      }),
    ]);
    await afterTicks(3);
    expect((await wave(w._id)).members[4]?.state).toBe('pending');
    // The running members go on; once they end, the paused scheduler leaves.
    await endRun(paused.members[2]!.run_id, 'completed_success');
    await endRun(paused.members[3]!.run_id, 'completed_success');
    expect(await first.exit).toMatchObject({ kind: 'finished', reason: 'paused with nothing running' });
    expect(await runsOf(members[4]!.cid)).toHaveLength(0);

    const cmd = commandDeps();
    const resumed = await resumeWave(cmd, w._id, 'ops');
    expect(resumed.generation).toBe(2);
    expect(cmd.jobs.jobs).toEqual([expect.objectContaining({ wave_id: w._id, generation: 2 })]);
    startScheduler(w._id, 2);
    const again = await until(
      w._id,
      (d) => [0, 1, 4].every((i) => d.members[i]?.state === 'running'),
      'the halted, the failed and the pending member to run',
    );
    expect(again.members[0]).toMatchObject({ attempts: 2, attempt_generation: 2 });
    expect(again.members[0]?.run_ids).toHaveLength(2);
    for (const i of [0, 1, 4]) await endRun(again.members[i]!.run_id, 'completed_success');
    await until(w._id, (d) => d.state === 'completed', 'the wave to complete');
    expect((await runsOf(members[2]!.cid)).length).toBe(1);
    expect((await runsOf(members[0]!.cid)).length).toBe(2);
  });

  it('pauses when a canary does not succeed, with no other member started', async () => {
    const members = await tenants(3);
    const w = await newWave(members, { canary: 1, parallel: 3, stopAfter: 5 });
    startScheduler(w._id, 1);
    const c = await until(w._id, (d) => d.members[0]?.state === 'running', 'the canary');
    await endRun(c.members[0]!.run_id, 'completed_with_errors');
    const paused = await until(w._id, (d) => d.state === 'paused', 'the canary gate to pause the wave');
    expect(paused.pause).toMatchObject({
      cause: 'canary_failed',
      members: [expect.objectContaining({ cid: members[0]!.cid })],
    });
    expect(paused.members.slice(1).map((m) => m.state)).toEqual(['pending', 'pending']);
    for (const m of members.slice(1)) expect(await runsOf(m.cid)).toHaveLength(0);
  });
});

describe('wave scheduler: cancel', () => {
  it('cancels running members, marks the rest cancelled, ends the wave and frees its CIDs', async () => {
    const members = await tenants(4);
    const w = await newWave(members, { canary: 0, parallel: 2 });
    startScheduler(w._id, 1);
    await until(w._id, (d) => d.members.filter((m) => m.state === 'running').length === 2, 'two running');
    const requested = await cancelWave(commandDeps(), w._id, 'ops');
    expect(requested.state).toBe('cancelling');
    startScheduler(w._id, 2);
    const done = await until(w._id, (d) => d.state === 'cancelled', 'the wave to be cancelled');
    // Runs no worker had claimed are cancelled at once by cancelMigration.
    expect(done.members.map((m) => m.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(done.members[3]?.reason?.code).toBe('WAVE_CANCELLED');
    expect(done.active_cids).toBeUndefined();
    for (const m of members.slice(0, 2)) expect((await runsOf(m.cid))[0]?.status).toBe('cancelled');
    // Its CIDs may join another wave now.
    await expect(newWave(members)).resolves.toMatchObject({ state: 'running' });
  });
});

describe('wave scheduler: one scheduler, at-most-once starts', () => {
  it('lets one of two schedulers of a generation claim the wave; the other retries later', async () => {
    const w = await newWave(await tenants(1), { canary: 0 });
    const a = startScheduler(w._id, 1);
    await until(w._id, (d) => d.scheduler.owner !== null, 'a scheduler');
    const b = await runWaveScheduler(schedulerDeps(), { waveId: w._id, generation: 1 });
    expect(b).toMatchObject({ kind: 'retry-later' });
    expect(await runWaveScheduler(schedulerDeps(), { waveId: w._id, generation: 7 })).toMatchObject({
      kind: 'nothing-to-do',
    });
    a.stop.abort();
    expect(await a.exit).toMatchObject({ kind: 'handed-off' });
  });

  it('fences out a scheduler that lost its lease: none of its writes land', async () => {
    const w = await newWave(await tenants(1), { canary: 0 });
    const claimed = await t.repos.waves.claimScheduler(w._id, 'old', 1, 60_000, new Date());
    await t.repos.waves.releaseScheduler(w._id, claimed!.scheduler.epoch, new Date());
    const taken = await t.repos.waves.claimScheduler(w._id, 'new', 1, 60_000, new Date());
    expect(taken!.scheduler.epoch).toBe(claimed!.scheduler.epoch + 1);
    const stale = claimed!.scheduler.epoch;
    expect(
      await t.repos.waves.updateMembers(w._id, stale, new Map([[0, { state: 'running' }]]), {
        now: new Date(),
      }),
    ).toBe(false);
    expect(await t.repos.waves.finish(w._id, stale, 'running', 'completed', new Date())).toBe(false);
    expect(await t.repos.waves.renewScheduler(w._id, stale, 60_000, new Date())).toBe(false);
    expect((await wave(w._id)).members[0]?.state).toBe('pending');
  });

  it('finishes a start a dead scheduler left half-done with the same run id: one run, never two', async () => {
    const members = await tenants(2);
    const w = await newWave(members, { canary: 0, parallel: 2 });
    // A scheduler claimed the wave, chose run ids, marked both members starting and died: for
    // member 0 before its trigger ran, for member 1 after the trigger created the run.
    const dead = await t.repos.waves.claimScheduler(w._id, 'dead', 1, 1, new Date());
    const [r0, r1] = [randomUUID(), randomUUID()];
    await t.repos.waves.updateMembers(
      w._id,
      dead!.scheduler.epoch,
      new Map([
        [0, { state: 'starting', run_id: r0, attempt_generation: 1 }],
        [1, { state: 'starting', run_id: r1, attempt_generation: 1 }],
      ]),
      { now: new Date() },
    );
    await schedulerDeps().trigger(
      {
        cid: members[1]!.cid,
        companySsoId: members[1]!.companySsoId,
        kind: 'migrate',
        mode: 'restart',
        triggeredBy: `wave:${w._id}`,
      },
      r1,
    );
    startScheduler(w._id, 1);
    const x = await until(w._id, (d) => d.members.every((m) => m.state === 'running'), 'both members to run');
    expect(x.members.map((m) => m.run_id)).toEqual([r0, r1]);
    expect(x.members.map((m) => m.run_ids)).toEqual([[r0], [r1]]);
    expect((await runsOf(members[0]!.cid)).map((r) => r._id)).toEqual([r0]);
    expect((await runsOf(members[1]!.cid)).map((r) => r._id)).toEqual([r1]);
  });
});
