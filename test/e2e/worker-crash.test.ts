/**
 * Workers killed, paused and resumed mid-run (issue #6 acceptance), with pages fetched and
 * prepared ahead (#15): real worker processes (the built binary), the fake CRM over HTTP with
 * realistic latency, an in-process S3 and the MongoDB test server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedCdp } from '../../src/crm/fake/cdp-seed.js';
import type { FakeCrm } from '../../src/crm/fake/fake-crm-server.js';
import { resolveFakeTenant } from '../../src/crm/fake/fake-tenant-options.js';
import type { RunDoc } from '../../src/db/documents.js';
import { MIGRATION_FLAG } from '../../src/domain.js';
import { createAgenda } from '../../src/jobs/agenda-factory.js';
import { createAgendaJobQueue } from '../../src/jobs/agenda-job-queue.js';
import { createSilentLogger } from '../../src/logger.js';
import { createTriggerDeps } from '../../src/migration/run-deps.js';
import { triggerMigration, type TriggerRequest } from '../../src/migration/trigger-migration.js';
import { makeConfigStamp } from '../fixtures/builders.js';
import { spawnWorker, type WorkerProcess } from '../helpers/cli-process.js';
import { startTestS3, type TestS3 } from '../helpers/embedded-s3.js';
import { expectExactOutcome } from '../helpers/exact-outcome.js';
import { startTrackedFakeCrm } from '../helpers/fake-crm.js';
import { serviceEnvFor } from '../helpers/service-env.js';
import { useTestDb } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const logger = createSilentLogger();
const NOTES = 5_000;
const PAGE_SIZE = 250;

let crm: FakeCrm;
let s3: TestS3;
const tenants = [
  { cid: '4101', companySsoId: 'co-kill', noteCount: NOTES, seed: 11, preset: 'realistic' as const },
  { cid: '4102', companySsoId: 'co-pause', noteCount: 2_000, seed: 12, preset: 'realistic' as const },
  { cid: '4103', companySsoId: 'co-sigterm', noteCount: 3_000, seed: 13, preset: 'realistic' as const },
  { cid: '4104', companySsoId: 'co-dry-kill', noteCount: 5_000, seed: 14, preset: 'realistic' as const },
];

beforeAll(async () => {
  // A CRM with realistic latency (no 5-15 s tail: the test waits for states, not times), so the
  // workers really have pages in flight and prepared ahead when they are killed, paused or stopped.
  crm = await startTrackedFakeCrm(
    { tenants, behaviour: { preset: 'realistic', latency: { tailShare: 0 } } },
    'file',
  );
  s3 = await startTestS3();
  for (const tenant of tenants) {
    await seedCdp(t.db, resolveFakeTenant(tenant));
    await t.repos.featureFlags.setFlag(tenant.cid, MIGRATION_FLAG, true, new Date());
  }
});

afterAll(async () => {
  await crm.stop();
  await s3.stop();
});

function workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...serviceEnvFor(t.dbUri, crm, s3),
    // Short leases so takeovers happen within seconds.
    LEASE_MS: '3000',
    LEASE_HEARTBEAT_MS: '1000',
    AGENDA_PROCESS_EVERY_MS: '500',
    AGENDA_LOCK_LIFETIME_MS: '4000',
    WORKER_CONCURRENCY: '1',
    // Pipelined pages (#15): two CRM pages in flight and the next one prepared during each write.
    PAGE_PREFETCH: '2',
    ...overrides,
  };
}

async function trigger(
  cid: string,
  companySsoId: string,
  how: Pick<TriggerRequest, 'kind' | 'options'> = { kind: 'migrate' },
) {
  const agenda = await createAgenda({
    db: t.db,
    name: 'test-trigger',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger,
  });
  try {
    return await triggerMigration(
      createTriggerDeps({
        repos: t.repos,
        extractor: { probeOrganization: () => Promise.resolve({ total: 0 }) },
        jobs: createAgendaJobQueue(agenda, t.db),
        pageSize: PAGE_SIZE,
        configStamp: makeConfigStamp({ page_size: PAGE_SIZE }),
        logger,
        now: () => new Date(),
      }),
      { cid, companySsoId, mode: 'restart', triggeredBy: 'test', ...how },
    );
  } finally {
    await agenda.stop(false);
  }
}

const terminal = (r: RunDoc | null) => !!r && r.status !== 'in_progress';

describe('a worker killed mid-run', () => {
  it('is replaced by a new worker that finishes the run: no duplicates, nothing missing, counters equal the database', async () => {
    const { cid, companySsoId } = tenants[0]!;
    const { runId } = await trigger(cid, companySsoId);
    const a = spawnWorker(workerEnv());
    await waitFor(
      () => t.repos.runs.get(runId),
      (r) => (r?.checkpoint.page ?? 0) >= 4,
      {
        timeoutMs: 120_000,
        what: `worker A to pass page 4 (output: ${a.output()})`,
      },
    );
    a.signal('SIGKILL');
    const killed = await a.exited;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = await t.repos.runs.get(runId);
    expect(atKill?.status).toBe('in_progress');

    const b: WorkerProcess = spawnWorker(workerEnv());
    const run = await waitFor(() => t.repos.runs.get(runId), terminal, {
      timeoutMs: 180_000,
      what: `the run to end (B: ${b.output()})`,
    });
    await b.stop();
    expect(run?.status).toBe('completed_success');
    expect(run?.owner).toContain(`:${b.pid}:`);
    expect(run?.lease_epoch).toBeGreaterThan(atKill!.lease_epoch);
    await expectExactOutcome(t, run!, crm.plan(cid), companySsoId);
    expect(run?.match_pct).toBeCloseTo(crm.plan(cid).expectedMatchPct!, 4);
    expect(await t.repos.locks.get(cid)).toBeNull();
  });
});

describe('a worker paused past its lease', () => {
  it('cannot write once it resumes: the new owner finishes and the run document is the new owner’s', async () => {
    const { cid, companySsoId } = tenants[1]!;
    const { runId } = await trigger(cid, companySsoId);
    const a = spawnWorker(workerEnv());
    await waitFor(
      () => t.repos.runs.get(runId),
      (r) => (r?.checkpoint.page ?? 0) >= 2,
      { timeoutMs: 120_000, what: 'worker A to pass page 2' },
    );
    a.signal('SIGSTOP');
    const atPause = await t.repos.runs.get(runId);

    const b = spawnWorker(workerEnv());
    const run = await waitFor(() => t.repos.runs.get(runId), terminal, {
      timeoutMs: 180_000,
      what: `B to finish (B: ${b.output()})`,
    });
    expect(run?.owner).toContain(`:${b.pid}:`);
    expect(run?.lease_epoch).toBeGreaterThan(atPause!.lease_epoch);

    // A wakes up in the middle of its page: every run write it attempts is fenced out.
    a.signal('SIGCONT');
    await waitFor(
      () => a.output(),
      (out) => out.includes('lease lost'),
      { timeoutMs: 30_000, what: `A to notice it lost the lease (A: ${a.output()})` },
    );
    const after = await t.repos.runs.get(runId);
    expect(after).toEqual(run);
    await a.stop();
    await b.stop();
    expect(run?.status).toBe('completed_success');
    await expectExactOutcome(t, run!, crm.plan(cid), companySsoId);
  });
});

describe('a worker stopped with SIGTERM (a rolling deploy)', () => {
  it('finishes its page, hands the lease back at once, and the next worker continues without waiting it out', async () => {
    const { cid, companySsoId } = tenants[2]!;
    const { runId } = await trigger(cid, companySsoId);
    // A long lease: without the hand-off, B could not claim the run before A's lease ran out.
    const env = workerEnv({
      LEASE_MS: '120000',
      LEASE_HEARTBEAT_MS: '5000',
      AGENDA_LOCK_LIFETIME_MS: '240000',
    });
    const a = spawnWorker(env);
    await waitFor(
      () => t.repos.runs.get(runId),
      (r) => (r?.checkpoint.page ?? 0) >= 2,
      { timeoutMs: 120_000, what: 'worker A to pass page 2' },
    );
    // A's lease as of now: every later heartbeat only moves its end further out.
    const leaseOfA = (await t.repos.locks.get(cid))!;
    a.signal('SIGTERM');
    expect(await a.exited).toMatchObject({ code: 0 });
    const handedOff = await t.repos.runs.get(runId);
    expect(handedOff?.status).toBe('in_progress');
    const lock = await t.repos.locks.get(cid);
    expect(lock?.run_id).toBe(runId);
    expect(lock!.expires_at.getTime()).toBeLessThanOrEqual(Date.now());

    const b = spawnWorker(env);
    // State, not a stopwatch: B holds the run (a newer lock epoch, or the run already ended and
    // its lock released) while A's lease, had it not been handed back, would still be running.
    await waitFor(
      () => t.repos.locks.get(cid),
      (l) => l === null || l.epoch > leaseOfA.epoch,
      {
        timeoutMs: Math.max(1_000, leaseOfA.expires_at.getTime() - Date.now()),
        what: `B to claim the run before A's lease would have run out (B: ${b.output()})`,
      },
    );
    const run = await waitFor(() => t.repos.runs.get(runId), terminal, {
      timeoutMs: 180_000,
      what: `B to finish (B: ${b.output()})`,
    });
    await b.stop();
    expect(run?.owner).toContain(`:${b.pid}:`);
    expect(run?.status).toBe('completed_success');
    await expectExactOutcome(t, run!, crm.plan(cid), companySsoId);
  });
});

describe('a worker killed mid-dry-run (#13)', () => {
  it('is replaced by a new worker that finishes the forecast with exact counters, and nothing is written', async () => {
    const { cid, companySsoId } = tenants[3]!;
    const plan = crm.plan(cid);
    const keysBefore = await s3.keys();
    const { runId } = await trigger(cid, companySsoId, {
      kind: 'dry_run',
      options: { verify_attachments: true },
    });
    const a = spawnWorker(workerEnv());
    await waitFor(
      () => t.repos.runs.get(runId),
      (r) => (r?.checkpoint.page ?? 0) >= 4,
      { timeoutMs: 120_000, what: `worker A to pass page 4 of the dry run (output: ${a.output()})` },
    );
    a.signal('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const atKill = await t.repos.runs.get(runId);
    expect(atKill?.status).toBe('in_progress');
    expect(atKill?.forecast?.pages).toBe(atKill?.checkpoint.page);

    const b = spawnWorker(workerEnv());
    const run = await waitFor(() => t.repos.runs.get(runId), terminal, {
      timeoutMs: 180_000,
      what: `the dry run to end (B: ${b.output()})`,
    });
    await b.stop();
    expect(run).toMatchObject({
      kind: 'dry_run',
      status: 'completed_success',
      notes_total: plan.notesTotal,
      notes_processed: plan.notesTotal,
      notes_migrated: plan.expectedMigrated,
      notes_skipped: 0,
      notes_failed: plan.expectedFailed,
      notes_with_warnings: plan.notesWithWarnings,
      out_of_scope_count: plan.outOfScope,
      closure: { balanced: true },
    });
    expect(run?.owner).toContain(`:${b.pid}:`);
    expect(run?.lease_epoch).toBeGreaterThan(atKill!.lease_epoch);
    // The forecast and the problem tally resumed from the checkpoint: nothing counted twice.
    const planned = Object.fromEntries(
      Object.entries({ ...plan.failures, ...plan.warnings }).filter(([, n]) => n > 0),
    );
    expect(run?.problem_tally?.by_reason).toEqual(planned);
    expect(await t.repos.failures.countByReason(runId)).toEqual(planned);
    expect(run?.forecast).toMatchObject({
      pages: Math.ceil(plan.notesTotal / PAGE_SIZE),
      owners: {
        by_crm_user_id: plan.owners.crm_user_id,
        by_email: plan.owners.email,
        unmapped: plan.owners.unmapped_named + plan.owners.unmapped_anonymous,
      },
      attachments: {
        would_store: plan.attachments.byOutcome.ok,
        would_store_bytes: plan.attachments.okBytes,
      },
      outcome: { status: 'completed_success' },
    });
    expect(run?.forecast?.outcome?.match_pct).toBeCloseTo(plan.expectedMatchPct!, 4);
    expect(run?.forecast?.persons_seen.ids).toHaveLength(plan.persons.seen);
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: companySsoId })).toBe(0);
    expect(await s3.keys()).toEqual(keysBefore);
    expect(await t.repos.locks.get(cid)).toBeNull();
  });
});
