import { ObjectId } from 'mongodb';
import { afterEach, describe, expect, inject, it } from 'vitest';

import { createAgenda } from '../../../src/jobs/agenda-factory.js';
import { createAgendaJobQueue } from '../../../src/jobs/agenda-job-queue.js';
import { type MigrationWorker, startMigrationWorker } from '../../../src/jobs/migration-worker.js';
import { createSilentLogger } from '../../../src/logger.js';
import { createTriggerDeps } from '../../../src/migration/run-deps.js';
import { triggerMigration } from '../../../src/migration/trigger-migration.js';
import { makeConfigStamp, makeCreatorUser, makeCrmNote } from '../../fixtures/builders.js';
import { trackResource } from '../../helpers/leak-check.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const caps = inject('caps');
const t = useTestDb(import.meta.url);
const logger = createSilentLogger();

let seq = 7000;
async function setup(changeStreams: 'auto' | 'off', processEveryMs: number) {
  const cid = String(seq++);
  const companySsoId = `co-${cid}`;
  const notes = Array.from({ length: 7 }, (_, i) => makeCrmNote({ id: String(i + 1), crmPersonId: `p${i}` }));
  await t.collections.contacts.insertMany(
    notes.map((n) => ({
      _id: `${cid}-${n.crmPersonId}`,
      company_sso_id: companySsoId,
      crm_data: { id: n.crmPersonId! },
    })),
  );
  await t.collections.users.insertOne(makeCreatorUser(companySsoId));
  const crm = createMemoryCrm(notes);
  const harness = createRunHarness({
    repos: t.repos,
    extractor: crm,
    pageSize: 3,
  });
  await harness.enableFlag(cid);

  // The API side: an Agenda that only enqueues.
  const apiAgenda = await createAgenda({
    db: t.db,
    name: 'api',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger,
  });
  const worker: MigrationWorker = await startMigrationWorker({
    db: t.db,
    logger,
    owner: `worker-${cid}`,
    execute: (runId, options) => harness.execute(runId, `worker-${cid}`, options),
    config: {
      concurrency: 1,
      processEveryMs,
      lockLifetimeMs: 30_000,
      leaseMs: 10_000,
      shutdownTimeoutMs: 10_000,
      changeStreams,
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await worker.stop();
    await apiAgenda.stop(false);
  };
  trackResource(`worker ${cid}`, () => !stopped, stop);
  const trigger = () =>
    triggerMigration(
      createTriggerDeps({
        repos: t.repos,
        extractor: crm,
        jobs: createAgendaJobQueue(apiAgenda, t.db),
        pageSize: 3,
        configStamp: makeConfigStamp({ page_size: 3 }),
        logger,
        now: () => new Date(),
      }),
      { cid, companySsoId, kind: 'migrate', mode: 'restart', triggeredBy: 'test' },
    );
  return { cid, companySsoId, worker, trigger, stop };
}

describe('migration worker on Agenda', () => {
  let current: { stop: () => Promise<void> } | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });

  it.skipIf(!caps.changeStreams)(
    `wakes on a change stream: a triggered run starts long before the next poll [needs capability changeStreams: ${caps.reasons.changeStreams}]`,
    async () => {
      const s = await setup('auto', 120_000);
      current = s;
      expect(s.worker.notification.kind).toBe('change-streams');
      const started = Date.now();
      const { runId, jobId } = await s.trigger();
      const run = await waitFor(
        () => t.repos.runs.get(runId),
        (r) => r?.status === 'completed_success',
        { timeoutMs: 30_000, what: 'the run to complete' },
      );
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(run?.job_id).toBe(jobId);
      expect(await t.collections.contactNotes.countDocuments({ company_sso_id: s.companySsoId })).toBe(7);
    },
  );

  it('falls back to polling when change streams are off, and still completes the run', async () => {
    const s = await setup('off', 250);
    current = s;
    expect(s.worker.notification).toMatchObject({ kind: 'polling', reason: 'CHANGE_STREAMS=off' });
    const { runId } = await s.trigger();
    await waitFor(
      () => t.repos.runs.get(runId),
      (r) => r?.status === 'completed_success',
      { timeoutMs: 30_000, what: 'the run to complete' },
    );
    // Agenda's job ends completed: not locked, nothing scheduled. Agenda saves that state just
    // after the handler returns, so the run can be terminal a moment before the job is.
    const job = await waitFor(
      () => t.db.collection('agendaJobs').findOne({ 'data.run_id': runId }),
      (j) => j?.lockedAt === null,
      { timeoutMs: 10_000, what: "Agenda's final save of the job" },
    );
    expect(job).toMatchObject({ lockedAt: null, nextRunAt: null, failCount: null });
  });

  it('ignores a job whose data is invalid without retrying it', async () => {
    const s = await setup('off', 250);
    current = s;
    const apiAgenda = s.worker.agenda;
    const job = await apiAgenda.now('crm-notes-migration', { cid: '1' });
    const failed = await waitFor(
      () => t.db.collection('agendaJobs').findOne({ _id: new ObjectId(String(job.attrs._id)) }),
      (j) => j?.failCount === 1,
      { timeoutMs: 20_000, what: 'the invalid job to fail' },
    );
    expect(failed?.nextRunAt).toBeNull();
    expect(String(failed?.failReason)).toMatch(/invalid data/);
  });
});
