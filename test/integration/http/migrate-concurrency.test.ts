import { describe, expect, it } from 'vitest';

import { MIGRATION_FLAG } from '../../../src/domain.js';
import { createAgenda } from '../../../src/jobs/agenda-factory.js';
import { createAgendaJobQueue } from '../../../src/jobs/agenda-job-queue.js';
import { createSilentLogger } from '../../../src/logger.js';
import { makeNewRun } from '../../fixtures/builders.js';
import { call, startApi } from '../../helpers/api-server.js';
import { trackResource } from '../../helpers/leak-check.js';
import { useTestDb } from '../../helpers/test-db.js';
import { waitFor } from '../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);

async function realAgendaQueue() {
  const agenda = await createAgenda({
    db: t.db,
    name: 'api-test',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger: createSilentLogger(),
  });
  let open = true;
  const stop = async () => {
    open = false;
    await agenda.stop(false);
  };
  trackResource('agenda (api-test)', () => open, stop);
  return { agenda, queue: createAgendaJobQueue(agenda, t.db), stop };
}

describe('trigger under concurrency', () => {
  it('answers 20 concurrent POSTs for one CID with exactly one 200 and nineteen 409 JOB_ALREADY_RUNNING, one run and one job', async () => {
    const { queue, stop } = await realAgendaQueue();
    const api = await startApi(t, { jobs: queue });
    const cid = '31337';
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());

    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(api, 'POST', '/private/notes/migrate', { body: { cid, company_sso_id: 'co-31337' } }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 409);
    expect(ok).toHaveLength(1);
    expect(busy).toHaveLength(19);
    for (const b of busy) expect(b.json.error).toBe('JOB_ALREADY_RUNNING');

    const runs = await t.collections.runs.find({ cid }).toArray();
    expect(runs).toHaveLength(1);
    expect(runs[0]?._id).toBe(ok[0]?.json.run_id);
    const jobs = await t.db.collection('agendaJobs').find({ 'data.cid': cid }).toArray();
    expect(jobs).toHaveLength(1);
    expect(String(jobs[0]?._id)).toBe(ok[0]?.json.job_id);
    expect(jobs[0]?.data).toEqual({ run_id: ok[0]?.json.run_id, cid, company_sso_id: 'co-31337' });
    expect(await t.repos.locks.get(cid)).toMatchObject({ run_id: ok[0]?.json.run_id, state: 'queued' });

    await api.close();
    await stop();
  });

  it('a crash after the lock (no run, no job) blocks the CID only until triggerGraceMs has passed', async () => {
    const { queue, stop } = await realAgendaQueue();
    const triggerGraceMs = 300;
    const api = await startApi(t, { jobs: queue, triggerConfig: { triggerGraceMs } });
    const cid = '31338';
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
    // What the trigger writes first, and then the process dies.
    const crashedAt = new Date();
    await t.repos.locks.insertQueued(
      cid,
      'crashed-run',
      new Date(crashedAt.getTime() + triggerGraceMs),
      crashedAt,
    );

    const body = { cid, company_sso_id: 'co-31338' };
    const during = await call(api, 'POST', '/private/notes/migrate', { body });
    expect(during).toMatchObject({ status: 409, json: { error: 'JOB_ALREADY_RUNNING' } });

    const after = await waitFor(
      () => call(api, 'POST', '/private/notes/migrate', { body }),
      (r) => r.status !== 409,
      { timeoutMs: 10_000, intervalMs: 100, what: 'the stale lock to be replaced' },
    );
    expect(after.status).toBe(200);
    expect(Date.now() - crashedAt.getTime()).toBeGreaterThanOrEqual(triggerGraceMs);
    expect(await t.repos.locks.get(cid)).toMatchObject({ run_id: after.json.run_id });
    expect(await t.db.collection('agendaJobs').countDocuments({ 'data.cid': cid })).toBe(1);

    await api.close();
    await stop();
  });

  it('a crash after the run was created but before its job leaves a run that the next trigger fails and replaces', async () => {
    const { queue, stop } = await realAgendaQueue();
    const triggerGraceMs = 300;
    const api = await startApi(t, { jobs: queue, triggerConfig: { triggerGraceMs } });
    const cid = '31339';
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
    const crashedAt = new Date();
    await t.repos.locks.insertQueued(
      cid,
      'half-run',
      new Date(crashedAt.getTime() + triggerGraceMs),
      crashedAt,
    );
    await t.repos.runs.create(
      makeNewRun({ runId: 'half-run', cid, companySsoId: 'co-31339', pageSize: 3 }),
      crashedAt,
    );

    const body = { cid, company_sso_id: 'co-31339' };
    expect((await call(api, 'POST', '/private/notes/migrate', { body })).status).toBe(409);
    const after = await waitFor(
      () => call(api, 'POST', '/private/notes/migrate', { body }),
      (r) => r.status !== 409,
      { timeoutMs: 10_000, intervalMs: 100, what: 'the half-written trigger to be superseded' },
    );
    expect(after.status).toBe(200);
    expect(await t.repos.runs.get('half-run')).toMatchObject({
      status: 'failed',
      error: { code: 'LEASE_LOST' },
    });
    const status = await call(api, 'GET', `/private/notes/migration/status?cid=${cid}`);
    expect(status.json).toMatchObject({ status: 'in_progress', run_id: after.json.run_id });

    await api.close();
    await stop();
  });
});
