import { describe, expect, it } from 'vitest';

import { MIGRATION_FLAG } from '../../../src/domain.js';
import { createAgenda } from '../../../src/jobs/agenda-factory.js';
import { createAgendaJobQueue } from '../../../src/jobs/agenda-job-queue.js';
import { startMigrationWorker } from '../../../src/jobs/migration-worker.js';
import { createSilentLogger } from '../../../src/logger.js';
import { executeRun } from '../../../src/migration/execute-run.js';
import type { NormalizeHtml } from '../../../src/migration/pipeline-ports.js';
import { makeCreatorUser, makeCrmNote } from '../../fixtures/builders.js';
import { call, startApi } from '../../helpers/api-server.js';
import { trackResource } from '../../helpers/leak-check.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const passThrough: NormalizeHtml = (html) => ({ ok: true, html, hasVisibleText: true });
const logger = createSilentLogger();

async function apiAgenda() {
  const agenda = await createAgenda({
    db: t.db,
    name: 'api-dash',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger,
  });
  let open = true;
  const stop = async () => {
    open = false;
    await agenda.stop(false);
  };
  trackResource('agenda (api-dash)', () => open, stop);
  return { agenda, stop };
}

describe('job dashboard', () => {
  it('is reachable only with Basic auth, serves its UI files, and /private/dash redirects to /private/dash/', async () => {
    const { agenda, stop } = await apiAgenda();
    const api = await startApi(t, { agenda });
    for (const path of ['/private/dash', '/private/dash/', '/private/dash/api?limit=5']) {
      const res = await call(api, 'GET', path, { auth: null });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    }
    const bearer = await call(api, 'GET', '/private/dash/', { auth: 'Bearer x' });
    expect(bearer.status).toBe(401);
    const redirect = await call(api, 'GET', '/private/dash');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/private/dash/');
    const page = await call(api, 'GET', '/private/dash/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text.toLowerCase()).toContain('agendash');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    // The page's own scripts and styles are served, with their types; nothing else is a file.
    const assets = [...page.text.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const res = await call(api, 'GET', `/private/dash/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers['content-type'], asset).toMatch(
        asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
    }
    expect((await call(api, 'GET', '/private/dash/assets/nope.js')).status).toBe(404);
    const jobs = await call(api, 'GET', '/private/dash/api?limit=5');
    expect(jobs.status).toBe(200);
    expect(jobs.json).toHaveProperty('jobs');
    // An unauthenticated Requeue is refused before agendash sees it.
    const requeue = await call(api, 'POST', '/private/dash/api/jobs/requeue', {
      body: { jobIds: [] },
      auth: null,
    });
    expect(requeue.status).toBe(401);
    await api.close();
    await stop();
  });

  it('answers 404 for /private/dash when this process has no Agenda', async () => {
    const api = await startApi(t);
    expect(await call(api, 'GET', '/private/dash/')).toMatchObject({
      status: 404,
      json: { error: 'NOT_FOUND' },
    });
    await api.close();
  });

  it('makes Requeue and Retry harmless: a completed run stays completed and no note is duplicated', async () => {
    const cid = '88001';
    const companySsoId = 'co-88001';
    const notes = Array.from({ length: 9 }, (_, i) =>
      makeCrmNote({ id: String(i + 1), crmPersonId: String(100 + i), creatorId: '7' }),
    );
    await t.collections.contacts.insertMany(
      notes.map((n, i) => ({
        _id: `dash-c${i}`,
        company_sso_id: companySsoId,
        crm_data: { id: n.crmPersonId! },
      })),
    );
    await t.collections.users.insertOne(makeCreatorUser(companySsoId));
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
    const crm = createMemoryCrm(notes);
    const h = createRunHarness({ repos: t.repos, extractor: crm, normalizeHtml: passThrough, pageSize: 3 });

    const { agenda, stop } = await apiAgenda();
    const api = await startApi(t, { agenda, jobs: createAgendaJobQueue(agenda, t.db), extractor: crm });
    const triggered = await call(api, 'POST', '/private/notes/migrate', {
      body: { cid, company_sso_id: companySsoId },
    });
    expect(triggered.status).toBe(200);
    const { run_id: runId, job_id: jobId } = triggered.json;

    const worker = await startMigrationWorker({
      db: t.db,
      logger,
      owner: 'dash-worker',
      execute: (id, options) => executeRun(h.deps('dash-worker'), id, options),
      config: {
        concurrency: 1,
        processEveryMs: 100,
        lockLifetimeMs: 30_000,
        leaseMs: 10_000,
        shutdownTimeoutMs: 5_000,
        changeStreams: 'off',
      },
    });
    let workerOpen = true;
    trackResource(
      'migration worker (dashboard test)',
      () => workerOpen,
      () => worker.stop().then(() => undefined),
    );

    const jobsColl = t.db.collection('agendaJobs');
    await waitFor(
      () => t.repos.runs.get(runId),
      (r) => r?.status === 'completed_success',
      {
        timeoutMs: 30_000,
        what: 'the run to complete',
      },
    );
    await waitFor(
      () => jobsColl.findOne({ 'data.run_id': runId }),
      (j) => j?.lastFinishedAt != null && j.lockedAt == null,
      { what: 'the job to be saved as finished' },
    );
    const completed = (await t.repos.runs.get(runId))!;
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: companySsoId })).toBe(9);
    const pagesBefore = crm.pagesServed.length;
    const failuresBefore = await t.collections.failures.countDocuments({ cid });

    // Requeue: agendash creates a second job document with the same data.
    const requeue = await call(api, 'POST', '/private/dash/api/jobs/requeue', { body: { jobIds: [jobId] } });
    expect(requeue).toMatchObject({ status: 200, json: { requeuedCount: 1 } });
    await waitFor(
      () => jobsColl.find({ 'data.run_id': runId }).toArray(),
      (jobs) => jobs.length === 2 && jobs.every((j) => j.lastFinishedAt != null && j.lockedAt == null),
      { timeoutMs: 30_000, what: 'the requeued job to be processed' },
    );

    // Retry: agendash reschedules the original document now.
    const original = await jobsColl.findOne({ _id: (await jobsColl.findOne({ 'data.run_id': runId }))!._id });
    const retry = await call(api, 'POST', '/private/dash/api/jobs/retry', { body: { jobIds: [jobId] } });
    expect(retry.status).toBe(200);
    await waitFor(
      () => jobsColl.findOne({ 'data.run_id': runId, lastFinishedAt: { $gt: original!.lastFinishedAt } }),
      (j) => j != null && j.lockedAt == null,
      { timeoutMs: 30_000, what: 'the retried job to be processed again' },
    );

    workerOpen = false;
    await worker.stop();
    await api.close();
    await stop();

    expect(await t.repos.runs.get(runId)).toEqual(completed);
    expect(await t.collections.runs.countDocuments({ cid })).toBe(1);
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: companySsoId })).toBe(9);
    expect(await t.collections.failures.countDocuments({ cid })).toBe(failuresBefore);
    expect(await t.repos.locks.get(cid)).toBeNull();
    expect(crm.pagesServed.length).toBe(pagesBefore);
    const failed = await jobsColl.countDocuments({ 'data.run_id': runId, failedAt: { $ne: null } });
    expect(failed).toBe(0);
  });
});
