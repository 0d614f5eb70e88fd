/**
 * Rollout waves end to end (#16 acceptance): the API and two worker processes × WORKER_CONCURRENCY=2
 * (the built binary) sharing one CRM budget, a fake CRM rate-limited to R requests/s answering 429
 * above it, an in-process S3 and the MongoDB test server. A wave of 10 tenants of mixed sizes; a
 * canary with a systemic problem; the worker holding the wave scheduler SIGKILLed mid-wave; and two
 * processes taking budget slots at once. The same wave without the budget is `npm run bench -- --only wave`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedCdp } from '../../src/crm/fake/cdp-seed.js';
import type { FakeCrm } from '../../src/crm/fake/fake-crm-server.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../../src/crm/fake/fake-tenant-options.js';
import type { RunDoc, WaveDoc } from '../../src/db/documents.js';
import { MIGRATION_FLAG } from '../../src/domain.js';
import { spawnCliProcess, spawnWorker, type WorkerProcess } from '../helpers/cli-process.js';
import { startTestS3, type TestS3 } from '../helpers/embedded-s3.js';
import { expectExactOutcome } from '../helpers/exact-outcome.js';
import { startTrackedFakeCrm } from '../helpers/fake-crm.js';
import { runCli } from '../helpers/run-cli.js';
import { serviceEnvFor } from '../helpers/service-env.js';
import { useTestDb } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
/** The fake CRM's limit: R requests/s (a rolling 10 s window of 10 R, at most 2 R in any second). */
const R = 4;
/** The budget, set a little under it, as docs/operations.md advises. */
const BUDGET_PER_S = 0.9 * R;
/** Small pages: each CRM request carries little database work, so the run is CRM-bound, not DB-bound. */
const PAGE_SIZE = 25;

let crm: FakeCrm;
let s3: TestS3;
let api: WorkerProcess;
let apiUrl: string;
let dir: string;

/**
 * Realistic tenants (out-of-scope notes, unmapped owners, check-ins, XSS, mentions, attachments with
 * every kind of trouble) without notes that fail: at 25 notes a page one failed note is 4 %, and
 * the 1 % halt rule would stop a tenant on its first page (the stop rule is tested on its own).
 * No 25 MiB attachments either: they only cost time here.
 */
const tenant = (cid: number, noteCount: number): FakeTenantOptions => ({
  cid: String(cid),
  companySsoId: `co-${cid}`,
  noteCount,
  seed: cid,
  preset: 'realistic',
  mix: {
    malformedShare: 0,
    noPersonShare: 0,
    personNotInCdpShare: 0,
    tooLongShare: 0,
    emptyAfterSanitizeShare: 0,
    attachmentShare: 0.05,
    attachmentTooLargeShare: 0,
  },
});
/** The main wave: a small canary first, then nine tenants of mixed sizes. */
const WAVE = [100, 320, 290, 260, 230, 200, 180, 160, 140, 120].map((n, i) => tenant(4601 + i, n));
const CANARY_WAVE = [100, 100, 100].map((n, i) => tenant(4701 + i, n));
const KILL_WAVE = [200, 200, 200, 200].map((n, i) => tenant(4801 + i, n));

beforeAll(async () => {
  crm = await startTrackedFakeCrm(
    {
      tenants: [...WAVE, ...CANARY_WAVE, ...KILL_WAVE],
      behaviour: {
        preset: 'realistic',
        latency: { baseMs: 100, perNoteMs: 2, sigma: 0.3, tailShare: 0 },
        rateLimit: { windowMs: 10_000, windowLimit: 10 * R, perSecondLimit: 2 * R },
      },
    },
    'file',
  );
  s3 = await startTestS3();
  for (const x of [...WAVE, ...CANARY_WAVE, ...KILL_WAVE]) {
    await seedCdp(t.db, resolveFakeTenant(x));
    await t.repos.featureFlags.setFlag(x.cid, MIGRATION_FLAG, true, new Date());
  }
  api = spawnCliProcess(['api'], { ...env(), HTTP_PORT: '0', LOG_LEVEL: 'info' }, 'file');
  apiUrl = (await api.waitForOutput(/"url":"(http:\/\/127\.0\.0\.1:\d+)".*"api listening"/))[1]!;
  dir = await mkdtemp(path.join(tmpdir(), 'cnm-wave-'));
});

afterAll(async () => {
  await api?.stop();
  await crm?.stop();
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return {
    ...serviceEnvFor(t.dbUri, crm, s3),
    CRM_PAGE_SIZE: String(PAGE_SIZE),
    PAGE_PREFETCH: '2',
    CRM_RATE_LIMIT_PER_S: String(BUDGET_PER_S),
    CRM_BURST: '2',
    WORKER_CONCURRENCY: '2',
    LEASE_MS: '3000',
    LEASE_HEARTBEAT_MS: '1000',
    AGENDA_PROCESS_EVERY_MS: '500',
    AGENDA_LOCK_LIFETIME_MS: '4000',
    WAVE_TICK_MS: '500',
    // Polling: SecantusDB writes 2.5× slower while a change stream is open (README "Performance").
    CHANGE_STREAMS: 'off',
  };
}

const cliEnv = () => ({ NOTES_MIGRATOR_URL: apiUrl });

async function startWave(members: FakeTenantOptions[], flags: string[]): Promise<string> {
  const file = path.join(dir, `members-${members[0]!.cid}.csv`);
  await writeFile(
    file,
    ['cid,company_sso_id', ...members.map((m) => `${m.cid},${m.companySsoId}`)].join('\n'),
  );
  const started = await runCli(['wave', 'start', '--file', file, ...flags], { env: cliEnv() });
  expect(started.code, started.stderr).toBe(0);
  return (JSON.parse(started.stdout) as { wave_id: string }).wave_id;
}

const waveDoc = async (id: string) => (await t.repos.waves.get(id)) as WaveDoc;
const waveRuns = (id: string) => t.collections.runs.find({ triggered_by: `wave:${id}` }).toArray();

async function expectEveryMemberExact(id: string, members: FakeTenantOptions[]) {
  const runs = await waveRuns(id);
  for (const m of members) {
    const mine = runs
      .filter((r) => r.cid === m.cid)
      .sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
    await expectExactOutcome(t, mine.at(-1)!, crm.plan(m.cid), m.companySsoId);
  }
}

interface Sample {
  atMs: number;
  requests: number;
  running: number;
  processed: Map<string, number>;
}

/** Samples the fake's request count and each member's progress until the wave ends. */
async function followWave(id: string): Promise<{ wave: WaveDoc; samples: Sample[] }> {
  const samples: Sample[] = [];
  const wave = await waitFor(
    async () => {
      const w = await waveDoc(id);
      const runs = new Map((await waveRuns(id)).map((r) => [r._id, r]));
      samples.push({
        atMs: Date.now(),
        requests: crm.counters().requests,
        running: w.members.filter((m) => m.state === 'running').length,
        processed: new Map(
          w.members.flatMap((m) => {
            const run = m.run_id ? runs.get(m.run_id) : undefined;
            return run?.status === 'in_progress' ? [[m.cid, run.notes_processed] as const] : [];
          }),
        ),
      });
      return w;
    },
    (w) => w.state === 'completed' || w.state === 'cancelled',
    { timeoutMs: 180_000, intervalMs: 500, what: `wave ${id} to end` },
  );
  return { wave, samples };
}

describe('a wave of 10 tenants through one rate-limited CRM, 2 workers × 2 runs, one shared budget', () => {
  let workers: WorkerProcess[] = [];
  beforeAll(() => {
    workers = [0, 1].map(() => spawnCliProcess(['worker'], env(), 'file'));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });

  it('completes with ≤ 1 % 429s, uses ≥ 0.8 R while ≥ 2 tenants run, advances every tenant, exact per tenant', async () => {
    crm.reset('all');
    const id = await startWave(WAVE, ['--canary', '1', '--parallel', '4']);
    const watch = runCli(['wave', 'status', id, '--watch'], { env: cliEnv(), timeoutMs: 180_000 });
    const { wave, samples } = await followWave(id);
    expect(wave.state).toBe('completed');
    expect(wave.members.map((m) => m.state)).toEqual(WAVE.map(() => 'completed_success'));
    expect(wave.members[0]?.canary).toBe(true);

    const counters = crm.counters();
    const share = counters.rateLimited / counters.requests;
    const busy = samples.filter((s) => s.running >= 2);
    const first = busy[0]!;
    const last = busy.at(-1)!;
    const ratePerS = (last.requests - first.requests) / ((last.atMs - first.atMs) / 1000);
    process.stdout.write(
      `[wave e2e] ${counters.requests} CRM requests, ${counters.rateLimited} × 429 (${(share * 100).toFixed(2)} %); ` +
        `${ratePerS.toFixed(2)} req/s = ${(ratePerS / R).toFixed(2)} R over ${((last.atMs - first.atMs) / 1000).toFixed(1)} s with ≥ 2 tenants running\n`,
    );
    expect(share).toBeLessThanOrEqual(0.01);
    expect(ratePerS).toBeGreaterThanOrEqual(0.8 * R);
    // Fairness: every running tenant's processed count rose within every 30 s of its run.
    for (const m of WAVE) {
      const seen = samples.filter((s) => s.processed.has(m.cid));
      let lastChange = seen[0]?.atMs ?? 0;
      for (let i = 1; i < seen.length; i++) {
        if (seen[i]!.processed.get(m.cid)! > seen[i - 1]!.processed.get(m.cid)!) lastChange = seen[i]!.atMs;
        expect(seen[i]!.atMs - lastChange, `CID ${m.cid} stalled`).toBeLessThan(30_000);
      }
    }
    await expectEveryMemberExact(id, WAVE);
    expect(await waveRuns(id)).toHaveLength(WAVE.length);
    // The budget document saw what the fake CRM saw (every request took a slot).
    const budget = await t.collections.crmBudgets.findOne({});
    expect(budget?.requests_total).toBeGreaterThanOrEqual(counters.requests - counters.rateLimited);
    expect(wave.fleet?.budget?.cap_per_s).toBe(BUDGET_PER_S);

    const watched = await watch;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/wave [0-9a-f]{8} running · canary (waiting|open)/);
    expect(watched.stdout).toMatch(/"state":"completed"/);
  });

  it('halts a canary with a systemic problem and pauses the wave with no other member started; resume after the fix runs the rest', async () => {
    const [canary, ...rest] = CANARY_WAVE;
    // The systemic problem: CDP has none of the canary tenant's contacts.
    await t.collections.contacts.deleteMany({ company_sso_id: canary!.companySsoId });
    const id = await startWave(CANARY_WAVE, ['--canary', '1', '--parallel', '3']);
    const paused = await waitFor(
      () => waveDoc(id),
      (w) => w.state === 'paused',
      {
        timeoutMs: 90_000,
        what: 'the canary to halt and the wave to pause',
      },
    );
    expect(paused.pause).toMatchObject({
      cause: 'canary_failed',
      members: [{ cid: canary!.cid, state: 'halted' }],
    });
    // The canary's own diagnosis (#13): the dominant cause and what to fix, listed with the pause.
    expect(paused.pause?.members[0]?.diagnosis?.cause).toMatchObject({
      reason_code: 'CONTACT_NOT_MAPPED',
      hint: expect.stringMatching(/contacts/),
    });
    expect(paused.members.slice(1).map((m) => m.state)).toEqual(['pending', 'pending']);
    for (const m of rest) expect(await t.collections.runs.countDocuments({ cid: m.cid })).toBe(0);
    const shown = await runCli(['wave', 'status', id], { env: cliEnv() });
    expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'paused', canary: { gate: 'failed' } });

    await seedCdp(t.db, resolveFakeTenant(canary!));
    const resumed = await runCli(['wave', 'resume', id], { env: cliEnv() });
    expect(resumed.code, resumed.stderr).toBe(0);
    const { wave } = await followWave(id);
    expect(wave.state).toBe('completed');
    expect(wave.members[0]).toMatchObject({ state: 'completed_success', attempts: 2 });
    expect(wave.members[0]?.run_ids).toHaveLength(2);
    await expectEveryMemberExact(id, CANARY_WAVE);
  });
});

describe('the worker holding the wave scheduler is SIGKILLed mid-wave', () => {
  it('another worker continues the wave; no member starts twice; every member ends accounted for', async () => {
    const workers = [spawnWorker(env()), spawnWorker(env())];
    try {
      const id = await startWave(KILL_WAVE, ['--canary', '0', '--parallel', '2']);
      const before = await waitFor(
        () => waveDoc(id),
        (w) =>
          w.scheduler.owner !== null &&
          w.members.some((m) => m.state === 'running') &&
          w.members.some((m) => m.state === 'pending'),
        { timeoutMs: 60_000, what: 'a scheduler with members running and pending' },
      );
      const holder = workers.find((w) => before.scheduler.owner?.includes(`:${w.pid}:`));
      expect(holder, `scheduler owner ${before.scheduler.owner}`).toBeDefined();
      holder!.signal('SIGKILL');
      expect((await holder!.exited).signal).toBe('SIGKILL');
      const survivor = workers.find((w) => w !== holder)!;

      const { wave } = await followWave(id);
      expect(wave.state).toBe('completed');
      expect(wave.scheduler.epoch).toBeGreaterThan(before.scheduler.epoch);
      expect(wave.members.map((m) => m.state)).toEqual(KILL_WAVE.map(() => 'completed_success'));
      // At most once: one run per member, and it is the member's.
      const runs: RunDoc[] = await waveRuns(id);
      expect(runs.map((r) => r.cid).sort()).toEqual(KILL_WAVE.map((m) => m.cid).sort());
      for (const m of wave.members) expect(m.run_ids).toEqual([m.run_id]);
      await expectEveryMemberExact(id, KILL_WAVE);
      expect(survivor.output()).not.toMatch(/"level":50.*wave scheduler failed/);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});

describe('notes-migrator wave with bad input', () => {
  it('refuses a hostile members file with exit 2, naming each bad line, and starts nothing', async () => {
    const file = path.join(dir, 'hostile.csv');
    await writeFile(file, 'cid,company_sso_id\n4901,co-4901\n4901,co-again\n=1+1,co-x\n4902,<script>\n');
    const res = await runCli(['wave', 'start', '--file', file, '--parallel', '0'], { env: cliEnv() });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--parallel must be a positive integer/);
    expect(res.stderr).toMatch(/line 3: cid 4901 is listed already on line 2/);
    expect(res.stderr).toMatch(/line 4: cid must be a positive integer/);
    expect(res.stderr).toMatch(/line 5: company_sso_id must be/);
    const badKind = await runCli(['wave', 'start', '--file', file, '--kind', 'rollback'], { env: cliEnv() });
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toMatch(/--kind must be one of migrate, dry-run, got "rollback"/);
    const missing = await runCli(['wave', 'start', '--file', path.join(dir, 'nope.csv')], { env: cliEnv() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
    const badId = await runCli(['wave', 'pause', '../../etc'], { env: cliEnv() });
    expect(badId.code).toBe(2);
    expect(await t.collections.waves.countDocuments({ 'members.cid': { $in: ['4901', '4902'] } })).toBe(0);
  });
});

describe('two processes taking slots from one budget document', () => {
  it('never let more than rate × window + burst go in any window (timer slack: one)', async () => {
    const rate = 20;
    const burst = 3;
    const takers = [0, 1].map((i) =>
      spawnCliScript('crm-budget-takers.js', [
        '--uri',
        t.dbUri,
        '--key',
        'crm:two-process',
        '--rate',
        String(rate),
        '--burst',
        String(burst),
        '--tenants',
        '3',
        '--per-tenant',
        '10',
        '--cid-base',
        String(9100 + 10 * i),
      ]),
    );
    const outputs = await Promise.all(takers);
    const times = outputs.flatMap((out) =>
      out
        .split('\n')
        .filter((l) => l.includes('at_ms'))
        .map((l) => (JSON.parse(l) as { at_ms: number }).at_ms),
    );
    expect(times).toHaveLength(60);
    const sorted = [...times].sort((a, b) => a - b);
    for (const windowMs of [100, 500, 1_000, 2_000]) {
      let most = 0;
      for (let i = 0, j = 0; i < sorted.length; i++) {
        while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
        most = Math.max(most, j - i);
      }
      expect(most, `${windowMs} ms window`).toBeLessThanOrEqual(
        Math.floor((rate * windowMs) / 1000) + burst + 1,
      );
    }
    // Even spacing, not a trickle: 60 slots at 20/s after a burst of 3 take about 2.85 s.
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThanOrEqual(((60 - burst) / rate) * 1000 - 150);
  });
});

async function spawnCliScript(script: string, args: string[]): Promise<string> {
  const { spawn } = await import('node:child_process');
  const file = path.resolve(import.meta.dirname, '../../dist/scripts', script);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${script} exited ${code}: ${err}`));
    });
  });
}
