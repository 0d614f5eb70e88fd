/**
 * A dry-run wave (#16 with #13) on the test database: the wave scheduler starts real `dry_run`
 * runs, executed by the page loop in this process over an in-memory CRM. A dry run never halts
 * itself, so the wave judges its forecast: a canary whose forecast says a real run would halt
 * (contacts missing) holds the gate and pauses the wave; after the fix, resume forecasts it again
 * and the rest. Nothing is written to `contact_notes`.
 */
import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { createInMemoryCrmNotesExtractor } from '../../../../src/crm/in-memory-crm-notes-extractor.js';
import type { WaveDoc } from '../../../../src/db/documents.js';
import { createSilentLogger } from '../../../../src/logger.js';
import type { MigrationJobQueue } from '../../../../src/migration/trigger-migration.js';
import { createWave, resumeWave } from '../../../../src/migration/waves/wave-commands.js';
import { createWaveCommandDeps, createWaveSchedulerDeps } from '../../../../src/migration/waves/wave-deps.js';
import { runWaveScheduler, type WaveSchedulerExit } from '../../../../src/migration/waves/wave-scheduler.js';
import { makeConfigStamp, makeCreatorUser, makeCrmNote, ok } from '../../../fixtures/builders.js';
import { createRecordingWaveQueue } from '../../../helpers/api-server.js';
import { createRunHarness } from '../../../helpers/run-harness.js';
import { useTestDb } from '../../../helpers/test-db.js';
import { waitFor } from '../../../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const logger = createSilentLogger();
const PAGE_SIZE = 25;
const NOTES = 40;
const CIDS = ['53001', '53002', '53003'];
const companyOf = (cid: string) => `co-${cid}`;

const crm = createInMemoryCrmNotesExtractor({
  tenants: Object.fromEntries(
    CIDS.map((cid) => [
      cid,
      Array.from({ length: NOTES }, (_, i) =>
        ok(makeCrmNote({ id: `${cid}-${i + 1}`, crmPersonId: `${cid}${i}` })),
      ),
    ]),
  ),
});

/** CDP knows every person and the creator of a tenant (or, for the canary's problem, no person). */
async function seedTenant(cid: string, contacts = true) {
  await t.collections.users.insertOne({ ...makeCreatorUser(companyOf(cid)), _id: `u-${cid}` });
  if (!contacts) return;
  await t.collections.contacts.insertMany(
    Array.from({ length: NOTES }, (_, i) => ({
      _id: `${cid}-contact-${i}`,
      company_sso_id: companyOf(cid),
      crm_data: { id: `${cid}${i}` },
    })),
  );
}

const executing = new Set<Promise<unknown>>();
/** Plays the worker: each enqueued run is executed right away, as Agenda would pick it up. */
function executingQueue(): MigrationJobQueue {
  const harness = createRunHarness({ repos: t.repos, extractor: crm, pageSize: PAGE_SIZE });
  return {
    enqueue(data) {
      const run = harness.execute(data.run_id, 'worker-dry');
      executing.add(run);
      void run.finally(() => executing.delete(run));
      return Promise.resolve(`job-${data.run_id}`);
    },
    exists: () => Promise.resolve(true),
  };
}

const stops: { stop: AbortController; exit: Promise<WaveSchedulerExit> }[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) {
    s.stop.abort();
    await s.exit;
  }
  await Promise.allSettled([...executing]);
});

function startScheduler(waveId: string, generation: number) {
  const stop = new AbortController();
  const deps = createWaveSchedulerDeps({
    repos: t.repos,
    trigger: {
      extractor: crm,
      jobs: executingQueue(),
      pageSize: PAGE_SIZE,
      configStamp: makeConfigStamp({ page_size: PAGE_SIZE }),
      logger,
      now: () => new Date(),
    },
    budgetKey: null,
    owner: `test-${randomUUID().slice(0, 6)}`,
    config: { leaseMs: 2_000, heartbeatMs: 500, tickMs: 40, retryLaterMs: 200 },
  });
  const entry = { stop, exit: runWaveScheduler(deps, { waveId, generation }, { shutdown: stop.signal }) };
  stops.push(entry);
  return entry;
}

const commands = () =>
  createWaveCommandDeps({ repos: t.repos, jobs: createRecordingWaveQueue(), logger, now: () => new Date() });
const wave = async (id: string) => (await t.repos.waves.get(id)) as WaveDoc;

describe('a dry-run wave', () => {
  it('pauses on a canary whose forecast says a real run would halt, starts no one else, and resume forecasts them all', async () => {
    const [canary, ...rest] = CIDS as [string, ...string[]];
    await seedTenant(canary, false);
    for (const cid of rest) await seedTenant(cid);
    const w = await createWave(commands(), {
      members: CIDS.map((cid) => ({ cid, companySsoId: companyOf(cid) })),
      kind: 'dry_run',
      canary: 1,
      maxParallelTenants: 3,
      stopAfterFailedTenants: 1,
      createdBy: 'test',
    });
    const first = startScheduler(w._id, 1);
    const paused = await waitFor(
      () => wave(w._id),
      (x) => x.state === 'paused',
      { timeoutMs: 20_000, what: 'the canary forecast to pause the wave' },
    );
    // The dry run itself completed (it reads to the end); its forecast names the cause.
    expect(paused.members[0]).toMatchObject({ state: 'completed_success', canary: true });
    expect(paused.pause).toMatchObject({
      cause: 'canary_failed',
      members: [
        {
          cid: canary,
          state: 'completed_success',
          diagnosis: {
            cause: { reason_code: 'CONTACT_NOT_MAPPED', systemic: true },
            would_halt: { page: 1, trigger: 'systemic' },
          },
        },
      ],
    });
    expect(paused.members.slice(1).map((m) => m.state)).toEqual(['pending', 'pending']);
    for (const cid of rest) expect(await t.collections.runs.countDocuments({ cid })).toBe(0);
    // Paused with nothing running, the scheduler leaves.
    expect(await first.exit).toMatchObject({ kind: 'finished' });

    // The fix: CDP gets the canary tenant's contacts. Resume forecasts the canary again, then the rest.
    await t.collections.contacts.insertMany(
      Array.from({ length: NOTES }, (_, i) => ({
        _id: `${canary}-contact-${i}`,
        company_sso_id: companyOf(canary),
        crm_data: { id: `${canary}${i}` },
      })),
    );
    const resumed = await resumeWave(commands(), w._id, 'test');
    startScheduler(w._id, resumed.generation);
    const done = await waitFor(
      () => wave(w._id),
      (x) => x.state === 'completed',
      { timeoutMs: 20_000, what: 'the resumed dry-run wave to complete' },
    );
    expect(done.members.map((m) => [m.state, m.diagnosis])).toEqual(
      CIDS.map(() => ['completed_success', null]),
    );
    expect(done.members[0]).toMatchObject({ attempts: 2 });
    const runs = await t.collections.runs.find({ triggered_by: `wave:${w._id}` }).toArray();
    expect(runs.map((r) => r.kind)).toEqual(['dry_run', 'dry_run', 'dry_run', 'dry_run']);
    expect(await t.collections.contactNotes.countDocuments({})).toBe(0);
  });
});
