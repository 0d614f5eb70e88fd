/**
 * Rollback and repair survive a dead or a stale worker (#14 acceptance): real worker processes
 * (the built binary) killed with SIGKILL or paused past their lease with SIGSTOP mid-run, the next
 * worker finishes, and the counts are exact — nothing deleted twice, nothing inserted twice. The
 * migration they act on is set up in-process over the same fake CRM, S3 and database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedCdp } from '../../src/crm/fake/cdp-seed.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../src/crm/fake/fake-crm-server.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../../src/crm/fake/fake-tenant-options.js';
import { createHttpCrmNotesExtractor } from '../../src/crm/http-crm-notes-extractor.js';
import type { RunDoc } from '../../src/db/documents.js';
import { MIGRATION_FLAG } from '../../src/domain.js';
import { createAgenda } from '../../src/jobs/agenda-factory.js';
import { createAgendaJobQueue } from '../../src/jobs/agenda-job-queue.js';
import { createSilentLogger } from '../../src/logger.js';
import { createTriggerDeps } from '../../src/migration/run-deps.js';
import { startRollback } from '../../src/migration/start-rollback.js';
import { type TriggerDeps, triggerMigration } from '../../src/migration/trigger-migration.js';
import { makeConfigStamp } from '../fixtures/builders.js';
import { spawnWorker, type WorkerProcess } from '../helpers/cli-process.js';
import { startTestS3, type TestS3 } from '../helpers/embedded-s3.js';
import { startTrackedFakeCrm } from '../helpers/fake-crm.js';
import { createRealAttachments, PROXY_BASE_URL, type RealAttachments } from '../helpers/real-attachments.js';
import { createRunHarness } from '../helpers/run-harness.js';
import { serviceEnvFor } from '../helpers/service-env.js';
import { useTestDb } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const logger = createSilentLogger();
/** Small pages: a run of 1,000–1,500 notes takes 20–30 pages, so a worker dies mid-run. */
const PAGE_SIZE = 50;

const tenant = (
  cid: string,
  companySsoId: string,
  noteCount: number,
  attachmentShare: number,
): FakeTenantOptions => ({
  cid,
  companySsoId,
  noteCount,
  seed: Number(cid),
  preset: 'clean',
  mix: { attachmentShare },
});
const ROLLBACK_KILL = tenant('4201', 'co-rb-kill', 1_500, 0.2);
const ROLLBACK_PAUSE = tenant('4202', 'co-rb-pause', 1_000, 0.2);
const REPAIR_KILL = tenant('4203', 'co-rp-kill', 1_500, 0.1);
const REPAIR_PAUSE = tenant('4204', 'co-rp-pause', 1_000, 0.1);
const TENANTS = [ROLLBACK_KILL, ROLLBACK_PAUSE, REPAIR_KILL, REPAIR_PAUSE];

let crm: FakeCrm;
let s3: TestS3;
let real: RealAttachments;

beforeAll(async () => {
  crm = await startTrackedFakeCrm({ tenants: TENANTS }, 'file');
  s3 = await startTestS3();
  real = createRealAttachments(s3, crm.port);
  for (const t0 of TENANTS) {
    await seedCdp(t.db, resolveFakeTenant(t0));
    await t.repos.featureFlags.setFlag(t0.cid, MIGRATION_FLAG, true, new Date());
  }
});

afterAll(async () => {
  real.close();
  await crm.stop();
  await s3.stop();
});

function workerEnv(): Record<string, string> {
  return {
    ...serviceEnvFor(t.dbUri, crm, s3),
    // Short leases so takeovers happen within seconds.
    LEASE_MS: '3000',
    LEASE_HEARTBEAT_MS: '1000',
    AGENDA_PROCESS_EVERY_MS: '500',
    AGENDA_LOCK_LIFETIME_MS: '4000',
    WORKER_CONCURRENCY: '1',
    // As the in-process migration wrote them: another proxy base would make every note with
    // attachments stale (its URLs are part of what a migration writes).
    ATTACHMENT_PROXY_BASE_URL: PROXY_BASE_URL,
  };
}

/** The migration a test undoes or repairs, run in this process (faster than a worker, same data). */
async function migrateInProcess(t0: FakeTenantOptions): Promise<RunDoc> {
  const h = createRunHarness({
    repos: t.repos,
    extractor: createHttpCrmNotesExtractor({
      rootUrl: crm.url,
      auth: FAKE_CRM_DEFAULT_AUTH,
      timeoutMs: 10_000,
      maxRetryAfterMs: 1_000,
      logger,
    }),
    pageSize: 250,
    attachments: real.attachments,
    vetAttachments: real.vetAttachments,
    attachmentObjects: real.attachmentObjects,
  });
  const { runId } = await h.trigger({ cid: t0.cid, companySsoId: t0.companySsoId });
  expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });
  return (await t.repos.runs.get(runId))!;
}

/** Trigger deps with a real Agenda queue, so the spawned workers pick the job up. */
async function withTrigger<T>(fn: (deps: TriggerDeps) => Promise<T>): Promise<T> {
  const agenda = await createAgenda({
    db: t.db,
    name: 'test-trigger',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger,
  });
  try {
    return await fn(
      createTriggerDeps({
        repos: t.repos,
        extractor: { probeOrganization: () => Promise.resolve({ total: 0 }) },
        jobs: createAgendaJobQueue(agenda, t.db),
        pageSize: PAGE_SIZE,
        configStamp: makeConfigStamp({ page_size: PAGE_SIZE }),
        logger,
        now: () => new Date(),
      }),
    );
  } finally {
    await agenda.stop(false);
  }
}

async function triggerRollback(target: RunDoc): Promise<string> {
  const answer = await withTrigger((trigger) =>
    startRollback(
      { trigger, contactNotes: t.repos.contactNotes },
      { runId: target._id, dryRun: false, triggeredBy: 'test' },
    ),
  );
  if (answer.kind !== 'started') throw new Error('expected a started rollback');
  return answer.started.runId;
}

const terminal = (r: RunDoc | null) => !!r && r.status !== 'in_progress';
const keysUnder = async (company: string) => (await s3.keys()).filter((k) => k.startsWith(`${company}/`));

/** Kills (or pauses) worker A after page `page`, lets worker B finish; returns the run and B. */
async function interrupt(runId: string, page: number, how: 'SIGKILL' | 'SIGSTOP') {
  const a = spawnWorker(workerEnv());
  await waitFor(
    () => t.repos.runs.get(runId),
    (r) => (r?.checkpoint.page ?? 0) >= page,
    { timeoutMs: 120_000, intervalMs: 20, what: `worker A to pass page ${page} (output: ${a.output()})` },
  );
  a.signal(how);
  const atStop = (await t.repos.runs.get(runId))!;
  expect(atStop.status).toBe('in_progress');
  if (how === 'SIGKILL') expect((await a.exited).signal).toBe('SIGKILL');
  const b: WorkerProcess = spawnWorker(workerEnv());
  const run = (await waitFor(() => t.repos.runs.get(runId), terminal, {
    timeoutMs: 180_000,
    what: `the run to end (B: ${b.output()})`,
  }))!;
  expect(run.owner).toContain(`:${b.pid}:`);
  expect(run.lease_epoch).toBeGreaterThan(atStop.lease_epoch);
  if (how === 'SIGSTOP') {
    // A wakes up mid-page: its next write finds the lease gone, and it writes nothing.
    a.signal('SIGCONT');
    await waitFor(
      () => a.output(),
      (out) => out.includes('lease lost'),
      { timeoutMs: 30_000, what: `A to notice it lost the lease (A: ${a.output()})` },
    );
    expect(await t.repos.runs.get(runId)).toEqual(run);
  }
  await a.stop();
  await b.stop();
  return run;
}

async function expectRolledBack(target: RunDoc, run: RunDoc, objectsBefore: number) {
  const company = target.company_sso_id;
  expect(run.status).toBe('completed_success');
  expect(run.rollback).toEqual({
    notes_deleted: target.notes_migrated,
    notes_kept: 0,
    objects_deleted: objectsBefore,
  });
  expect(run.notes_processed).toBe(target.notes_migrated);
  expect(await t.collections.contactNotes.countDocuments({ company_sso_id: company })).toBe(0);
  expect(await keysUnder(company)).toEqual([]);
  expect((await t.repos.runs.get(target._id))?.rolled_back_by).toBe(run._id);
  // The write-ahead record is cleared at the end, and a stale worker could not write one after.
  expect((await t.repos.runs.get(run._id))?.rollback_intents).toBeNull();
  expect(await t.repos.locks.get(target.cid)).toBeNull();
}

describe('a rollback whose worker dies or stalls', () => {
  it.each([
    ['killed (SIGKILL)', ROLLBACK_KILL, 'SIGKILL' as const],
    ['paused past its lease (SIGSTOP)', ROLLBACK_PAUSE, 'SIGSTOP' as const],
  ])(
    'is finished by the next worker when the first is %s: every note deleted once, every object once, counts exact',
    async (_name, t0, how) => {
      const target = await migrateInProcess(t0);
      const notes = await t.collections.contactNotes.find({ company_sso_id: t0.companySsoId }).toArray();
      const objects = notes.reduce((n, note) => n + note.attachments.length, 0);
      expect(objects).toBeGreaterThan(0);
      expect(await keysUnder(t0.companySsoId)).toHaveLength(objects);
      const runId = await triggerRollback(target);
      const run = await interrupt(runId, how === 'SIGKILL' ? 5 : 3, how);
      await expectRolledBack(target, run, objects);
    },
  );
});

describe('a repair whose worker dies or stalls', () => {
  it.each([
    ['killed (SIGKILL)', REPAIR_KILL, 'SIGKILL' as const],
    ['paused past its lease (SIGSTOP)', REPAIR_PAUSE, 'SIGSTOP' as const],
  ])(
    'is finished by the next worker when the first is %s: each missing note inserted once, each stale one replaced once',
    async (_name, t0, how) => {
      await migrateInProcess(t0);
      const resolved = resolveFakeTenant(t0);
      const indices = Array.from({ length: t0.noteCount }, (_, i) => i);
      const deletedInCdp = indices.filter((i) => i % 5 === 0);
      const editedInCrm = indices.filter((i) => i % 7 === 3 && i % 5 !== 0);
      await t.collections.contactNotes.deleteMany({
        company_sso_id: t0.companySsoId,
        legacy_crm_note_id: { $in: deletedInCdp.map((i) => String(resolved.firstNoteId + i)) },
      });
      crm.mutate(t0.cid, { edit: editedInCrm });

      const { runId } = await withTrigger((trigger) =>
        triggerMigration(trigger, {
          cid: t0.cid,
          companySsoId: t0.companySsoId,
          kind: 'repair',
          mode: 'restart',
          triggeredBy: 'test',
        }),
      );
      const run = await interrupt(runId, how === 'SIGKILL' ? 5 : 3, how);
      expect(run.status).toBe('completed_success');
      expect(run.repair).toEqual({
        inserted: deletedInCdp.length,
        replaced: editedInCrm.length,
        replace_skipped: 0,
      });
      expect(run.reconcile).toMatchObject({
        ok: t0.noteCount - deletedInCdp.length - editedInCrm.length,
        missing: deletedInCdp.length,
        stale: editedInCrm.length,
        orphan: 0,
      });
      expect(run).toMatchObject({
        notes_processed: t0.noteCount,
        notes_migrated: deletedInCdp.length + editedInCrm.length,
        notes_failed: 0,
        closure: { balanced: true },
      });
      const dupes = await t.collections.contactNotes
        .aggregate([
          { $match: { company_sso_id: t0.companySsoId } },
          { $group: { _id: '$legacy_crm_note_id', n: { $sum: 1 } } },
          { $match: { n: { $gt: 1 } } },
        ])
        .toArray();
      expect(dupes).toEqual([]);
      expect(await t.collections.contactNotes.countDocuments({ company_sso_id: t0.companySsoId })).toBe(
        t0.noteCount,
      );
      // Counted here, not by the server: SecantusDB finds nothing for the two provenance fields plus
      // a third condition (docs/testing.md); the service never asks that.
      const written = await t.collections.contactNotes
        .find({ company_sso_id: t0.companySsoId, legacy_migration_run_id: runId })
        .project<{ legacy_replaced_fingerprint?: string }>({ legacy_replaced_fingerprint: 1 })
        .toArray();
      expect(written).toHaveLength(deletedInCdp.length + editedInCrm.length);
      expect(written.filter((n) => n.legacy_replaced_fingerprint !== undefined)).toHaveLength(
        editedInCrm.length,
      );
    },
  );
});
