/**
 * The wave scenario of `npm run bench` (#16): N clean tenants rolled out as one wave (canary 1,
 * 4 in parallel) by two real worker processes × WORKER_CONCURRENCY=2 through a realistic fake CRM
 * limited to R requests/s (429 above it) — once with the shared CRM budget at 0.9 R, once
 * without it (each process paces only itself) for comparison. Prints aggregate notes/s, CRM
 * utilisation (requests/s ÷ R while ≥ 2 tenants run), the 429 share and failed runs.
 */
import { spawn } from 'node:child_process';

import { seedCdp } from '../src/crm/fake/cdp-seed.js';
import { FAKE_CRM_DEFAULT_AUTH, startFakeCrm } from '../src/crm/fake/fake-crm-server.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../src/crm/fake/fake-tenant-options.js';
import type { WaveDoc } from '../src/db/documents.js';
import { MIGRATION_FLAG } from '../src/domain.js';
import { createAgenda } from '../src/jobs/agenda-factory.js';
import { createAgendaWaveQueue } from '../src/jobs/agenda-wave-queue.js';
import { createWave } from '../src/migration/waves/wave-commands.js';
import { createWaveCommandDeps } from '../src/migration/waves/wave-deps.js';
import type { RunContext } from './bench-run.js';
import { WORKER_NODE_FLAGS } from './bench-run.js';

export interface WaveScenarioOptions {
  tenants: number;
  notesPerTenant: number;
  /** The fake CRM's limit R, requests/s: a rolling 10 s window of 10 R, at most 2 R in any second. */
  crmRatePerS: number;
  /** With the shared budget at 0.9 R, or without it. */
  budget: boolean;
  cidBase: number;
  /** Gives up on a wave that has not ended by then (a stuck wave is a result too). */
  timeoutMs?: number;
}

export interface WaveFigures {
  budget: boolean;
  tenants: number;
  notes: number;
  seconds: number;
  notesPerSec: number;
  crmRatePerS: number;
  requests: number;
  rateLimited: number;
  rateLimitedShare: number;
  /** CRM requests/s ÷ R while at least two tenants ran. */
  utilisation: number;
  /** Seconds with at least two tenants running (the utilisation's window). */
  busySeconds: number;
  members: Record<string, number>;
  failedRuns: number;
  waveState: string;
}

const BUDGET_SHARE = 0.9;

export async function measureWave(ctx: RunContext, options: WaveScenarioOptions): Promise<WaveFigures> {
  const R = options.crmRatePerS;
  const tenants: FakeTenantOptions[] = Array.from({ length: options.tenants }, (_, i) => ({
    cid: String(options.cidBase + i),
    companySsoId: `co-bench-wave-${options.cidBase + i}`,
    noteCount: options.notesPerTenant,
    seed: options.cidBase + i,
    preset: 'clean',
  }));
  const crm = await startFakeCrm({
    tenants,
    behaviour: {
      preset: 'realistic',
      seed: options.cidBase,
      rateLimit: {
        windowMs: 10_000,
        windowLimit: Math.round(10 * R),
        perSecondLimit: Math.max(1, Math.round(2 * R)),
      },
    },
    logger: ctx.logger,
  });
  const workers = [0, 1].map(() => spawnWorker(ctx, crm.url, options.budget ? BUDGET_SHARE * R : null));
  try {
    for (const t of tenants) {
      await seedCdp(ctx.db, resolveFakeTenant(t));
      await ctx.repos.featureFlags.setFlag(t.cid, MIGRATION_FLAG, true, new Date());
    }
    crm.reset('all');
    const waveId = await startWave(ctx, tenants);
    const followed = await follow(ctx, waveId, () => crm.counters().requests, options.timeoutMs ?? 1_800_000);
    const counters = crm.counters();
    const runs = await ctx.repos.runs.getMany(followed.wave.members.flatMap((m) => m.run_ids));
    const notes = runs.reduce((n, r) => n + r.notes_processed, 0);
    const figures: WaveFigures = {
      budget: options.budget,
      tenants: options.tenants,
      notes,
      seconds: followed.seconds,
      notesPerSec: Math.round(notes / followed.seconds),
      crmRatePerS: R,
      requests: counters.requests,
      rateLimited: counters.rateLimited,
      rateLimitedShare: counters.requests > 0 ? counters.rateLimited / counters.requests : 0,
      utilisation: followed.busyRequestsPerSec / R,
      busySeconds: followed.busySeconds,
      members: countStates(followed.wave),
      failedRuns: runs.filter((r) => r.status === 'failed' || r.status === 'halted').length,
      waveState: followed.wave.state,
    };
    report(ctx, figures);
    return figures;
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map(
        (w) => new Promise((resolve) => (w.exitCode === null ? w.on('exit', resolve) : resolve(null))),
      ),
    );
    await crm.stop();
  }
}

function spawnWorker(ctx: RunContext, crmUrl: string, budgetPerS: number | null) {
  return spawn(process.execPath, [...WORKER_NODE_FLAGS, ctx.cli, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MONGODB_URI: ctx.workerUri,
      CRM_API_ROOT_URL: crmUrl,
      CRM_API_AUTH: FAKE_CRM_DEFAULT_AUTH,
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '2',
      AGENDA_PROCESS_EVERY_MS: '1000',
      WAVE_TICK_MS: '1000',
      PAGE_PREFETCH: '2',
      CRM_PAGE_SIZE: String(ctx.pageSize),
      ...(budgetPerS === null ? {} : { CRM_RATE_LIMIT_PER_S: String(budgetPerS), CRM_BURST: '1' }),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(process.env.BENCH_CHANGE_STREAMS ? { CHANGE_STREAMS: process.env.BENCH_CHANGE_STREAMS } : {}),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function startWave(ctx: RunContext, tenants: FakeTenantOptions[]): Promise<string> {
  const agenda = await createAgenda({
    db: ctx.db,
    name: 'bench-wave',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger: ctx.logger,
  });
  try {
    const wave = await createWave(
      createWaveCommandDeps({
        repos: ctx.repos,
        jobs: createAgendaWaveQueue(agenda, ctx.db),
        logger: ctx.logger,
        now: () => new Date(),
      }),
      {
        members: tenants.map((t) => ({ cid: t.cid, companySsoId: t.companySsoId })),
        kind: 'migrate',
        canary: 1,
        maxParallelTenants: 4,
        // Never pause: the comparison reports failed runs instead of stopping at the first.
        stopAfterFailedTenants: tenants.length,
        createdBy: 'bench',
      },
    );
    return wave._id;
  } finally {
    await agenda.stop(false);
  }
}

/** Polls the wave once a second until it ends; the request rate while ≥ 2 tenants run. */
async function follow(ctx: RunContext, waveId: string, requests: () => number, timeoutMs: number) {
  const started = Date.now();
  let busyFirst: { atMs: number; requests: number } | null = null;
  let busyLast: { atMs: number; requests: number } | null = null;
  let lastLine = '';
  for (;;) {
    const wave = (await ctx.repos.waves.get(waveId)) as WaveDoc;
    const running = wave.members.filter((m) => m.state === 'running').length;
    const sample = { atMs: Date.now(), requests: requests() };
    if (running >= 2) {
      busyFirst ??= sample;
      busyLast = sample;
    }
    const line = `      ${wave.state}: ${JSON.stringify(countStates(wave))}`;
    if (line !== lastLine) ctx.say(line);
    lastLine = line;
    const ended =
      wave.state === 'completed' || wave.state === 'cancelled' || (wave.state === 'paused' && running === 0);
    if (ended || Date.now() - started > timeoutMs) {
      const busySeconds = busyFirst && busyLast ? (busyLast.atMs - busyFirst.atMs) / 1000 : 0;
      const busyRequests = busyFirst && busyLast ? busyLast.requests - busyFirst.requests : 0;
      return {
        wave,
        seconds: ((wave.finished_at ?? new Date()).getTime() - wave.created_at.getTime()) / 1000,
        busySeconds,
        busyRequestsPerSec: busySeconds > 0 ? busyRequests / busySeconds : 0,
      };
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function countStates(wave: WaveDoc): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of wave.members) counts[m.state] = (counts[m.state] ?? 0) + 1;
  return counts;
}

function report(ctx: RunContext, f: WaveFigures): void {
  ctx.say(
    `      ${f.budget ? 'with the shared budget (0.9 R)' : 'without the budget'}: ${f.waveState}, ${f.notes} notes in ${f.seconds.toFixed(1)} s = ${f.notesPerSec} notes/s; ` +
      `CRM ${f.requests} requests, ${f.rateLimited} × 429 (${(f.rateLimitedShare * 100).toFixed(1)} %), utilisation ${f.utilisation.toFixed(2)} of R=${f.crmRatePerS}/s over ${f.busySeconds.toFixed(0)} s with ≥ 2 tenants running; failed runs ${f.failedRuns}`,
  );
}
