/**
 * `npm run bench` (issues #8, #15): one run on one machine and one database, printing tables and JSON.
 *   - end to end: N clean notes over HTTP from the fake CRM through a real worker process
 *     (normalize, resolve, upsert) at the largest PAGE_PREFETCH → notes/s, p50/p95 page cycle,
 *     the worker's peak RSS;
 *   - CRM scenarios (instant, realistic, slow fake CRMs), pipelined and sequential, each against
 *     its own limit measured in the same run (bench-crm-scenarios.ts);
 *   - raw write limit: the same finished documents bulk-upserted into a collection with the same
 *     indexes → docs/s, and pipeline ÷ raw; measured twice: on a quiet database, and with the
 *     change stream open that every idle worker holds on `agendaJobs` (the conditions the
 *     pipeline writes under when change streams are on);
 *   - re-run of the same tenant (everything skipped) → notes/s;
 *   - normalizer vs plain sanitize-html;
 *   - peak RSS at a small and a large N (must stay flat: one page in memory at a time);
 *   - a rollout wave (#16, bench-wave.ts): N tenants through one CRM limited to R requests/s by
 *     two workers × 2 runs, with the shared CRM budget and without → notes/s, utilisation, 429s.
 * Options: --notes N (default 100000), --small N (default 10000), --scenario-notes N (default
 * 10000), --page-size N (default 500), --wave-tenants N (default 8), --wave-notes N (default
 * 2000), --wave-rate R (default 1, requests/s), --wave-page-size N (default 50), --only wave
 * (the wave scenario alone).
 * BENCH_CHANGE_STREAMS=off runs the workers on polling.
 * Uses MONGODB_URI when set, else the embedded database. Not part of the tests.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { INDEX_MIGRATIONS } from '../migrations/index.js';
import { seedCdp } from '../src/crm/fake/cdp-seed.js';
import { startFakeCrm } from '../src/crm/fake/fake-crm-server.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../src/crm/fake/fake-tenant-options.js';
import type { RunDoc } from '../src/db/documents.js';
import { startEmbeddedMongo } from '../src/db/embedded-mongo.js';
import { createIndexMigrationRunner } from '../src/db/index-migrations.js';
import { connectMongo } from '../src/db/mongo-client.js';
import { createRepositories } from '../src/db/repositories.js';
import { MIGRATION_FLAG } from '../src/domain.js';
import { createLogger } from '../src/logger.js';
import { CRM_SCENARIOS, measureCrmScenario, type ScenarioFigures } from './bench-crm-scenarios.js';
import { CLI_PATH, measuredRun, type RunContext, type RunFigures, WORKER_NODE_FLAGS } from './bench-run.js';
import { measureWave, type WaveFigures } from './bench-wave.js';
import { measureNormalizerThroughput } from './normalizer-throughput.js';
import { rawWriteLimit } from './raw-write-limit.js';

const logger = createLogger({ level: 'warn', name: 'bench' });
const ROOT = path.resolve(import.meta.dirname, '../..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

const N = arg('notes', 100_000);
const SMALL = arg('small', 10_000);
const SCENARIO_NOTES = arg('scenario-notes', 10_000);
const PAGE_SIZE = arg('page-size', 500);
const WAVE_TENANTS = arg('wave-tenants', 8);
const WAVE_NOTES = arg('wave-notes', 2_000);
/**
 * R and the wave's own page size: R × page size (50 notes/s) stays well under what the test
 * server writes with four tenants at once (86 notes/s at R = 2 × 100 on 2026-12-01, where the
 * wave was database-bound and used 0.48 R), so the wave is CRM-bound and its utilisation
 * measures the budget, not the database. 8 × 2,000 notes keeps ≥ 2 tenants running for minutes.
 */
const WAVE_RATE = arg('wave-rate', 1);
const WAVE_PAGE_SIZE = arg('wave-page-size', 50);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'wave') throw new Error(`--only must be wave, got ${ONLY}`);
/** PAGE_PREFETCH's largest value (src/config.ts): the end-to-end runs check memory there. */
const MAX_PAGE_PREFETCH = 8;
/** PAGE_PREFETCH's default: the CRM scenarios measure what operators get. */
const DEFAULT_PAGE_PREFETCH = 2;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  const started = Date.now();
  let stopMongo: (() => Promise<void>) | undefined;
  let uri = process.env.MONGODB_URI;
  let mongoKind = 'external';
  if (!uri) {
    const embedded = await startEmbeddedMongo({ logger, mongodBinary: process.env.MONGOMS_SYSTEM_BINARY });
    uri = embedded.uri;
    mongoKind = embedded.kind;
    stopMongo = () => embedded.stop();
  }
  const dbName = `cnm_bench_${Date.now()}`;
  const mongo = await connectMongo({ uri, dbName });
  const db = mongo.db;
  const repos = createRepositories(db);
  await createIndexMigrationRunner(db, INDEX_MIGRATIONS).up();
  const build = await db.admin().command({ buildInfo: 1 });
  say(`database: ${mongoKind} (reports MongoDB ${String(build.version)}), db ${dbName}`);
  if (ONLY === 'wave') {
    try {
      await runWaveScenarios(
        { db, repos, workerUri: withDb(uri, dbName), cli: CLI_PATH(ROOT), pageSize: PAGE_SIZE, logger, say },
        { kind: mongoKind, version: String(build.version) },
        started,
      );
    } finally {
      await db.dropDatabase().catch(() => undefined);
      await mongo.close();
      await stopMongo?.();
    }
    return;
  }

  const small: FakeTenantOptions = {
    cid: '9001',
    companySsoId: 'co-bench-small',
    noteCount: SMALL,
    seed: 1,
    preset: 'clean',
  };
  const large: FakeTenantOptions = {
    cid: '9002',
    companySsoId: 'co-bench',
    noteCount: N,
    seed: 2,
    preset: 'clean',
  };
  const crm = await startFakeCrm({ tenants: [small, large], logger });
  try {
    for (const tenant of [small, large]) {
      await seedCdp(db, resolveFakeTenant(tenant));
      await repos.featureFlags.setFlag(tenant.cid, MIGRATION_FLAG, true, new Date());
    }
    const ctx: RunContext = {
      db,
      repos,
      workerUri: withDb(uri, dbName),
      cli: CLI_PATH(ROOT),
      pageSize: PAGE_SIZE,
      logger,
      say,
    };

    say(`\n[1/7] end to end, ${SMALL.toLocaleString('en-US')} notes, PAGE_PREFETCH=${MAX_PAGE_PREFETCH}`);
    const smallRun = await measuredRun(ctx, crm, small, MAX_PAGE_PREFETCH);
    say(`[2/7] end to end, ${N.toLocaleString('en-US')} notes, PAGE_PREFETCH=${MAX_PAGE_PREFETCH}`);
    const firstRun = await measuredRun(ctx, crm, large, MAX_PAGE_PREFETCH);
    say('[3/7] re-run of the same tenant (every note already in CDP)');
    // A successful CID refuses a new trigger (409 ALREADY_MIGRATED); operators re-run after any
    // other outcome, so the measurement re-opens the CID the way such an outcome would.
    await db
      .collection<RunDoc>('migration_runs')
      .updateMany({ cid: large.cid }, { $set: { status: 'completed_with_errors' } });
    const rerun = await measuredRun(ctx, crm, large, MAX_PAGE_PREFETCH);
    say('[4/7] raw write limit: the same finished documents, bulk-upserted');
    // The worker writes with a change stream open exactly when it wakes on change streams.
    const watched = process.env.BENCH_CHANGE_STREAMS !== 'off';
    const raw = await rawWriteLimit(db, say, large.companySsoId, 'contact_notes_raw_bench', false, PAGE_SIZE);
    const rawWatched = watched
      ? await rawWriteLimit(db, say, large.companySsoId, 'contact_notes_raw_bench_watched', true, PAGE_SIZE)
      : null;
    say(`[5/7] CRM scenarios, ${SCENARIO_NOTES.toLocaleString('en-US')} notes each`);
    const scenarios: ScenarioFigures[] = [];
    for (const [i, scenario] of CRM_SCENARIOS.entries()) {
      say(`   ${scenario.name} CRM`);
      scenarios.push(
        await measureCrmScenario(ctx, scenario, {
          notes: SCENARIO_NOTES,
          pagePrefetch: DEFAULT_PAGE_PREFETCH,
          // Each scenario's own write limit, measured right after its runs on the same database.
          writeLimit: async (companySsoId) =>
            (
              await rawWriteLimit(
                db,
                say,
                companySsoId,
                `contact_notes_raw_${scenario.name}`,
                watched,
                PAGE_SIZE,
              )
            ).docsPerSec,
          cidBase: 9100 + 10 * i,
        }),
      );
    }
    const scenario = (name: string) => scenarios.find((x) => x.name === name);
    say('[6/7] normalizer vs plain sanitize-html');
    const normalizer = measureNormalizerThroughput({ count: 20_000, seed: 20_240_501, rounds: 2 });
    say('[7/7] rollout wave through one rate-limited CRM');
    const wave = await measureWaves(ctx);

    const result = {
      machine: {
        cores: os.cpus().length,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
      },
      database: { kind: mongoKind, version: String(build.version) },
      workerNodeFlags: WORKER_NODE_FLAGS,
      changeStreams: process.env.BENCH_CHANGE_STREAMS ?? 'auto',
      pageSize: PAGE_SIZE,
      endToEnd: firstRun,
      endToEndSmall: smallRun,
      rerun,
      rawWrite: raw,
      rawWriteWithChangeStreamOpen: rawWatched,
      ratios: {
        pipelineOverRaw: firstRun.notesPerSec / raw.docsPerSec,
        ...(rawWatched
          ? { pipelineOverRawWithChangeStreamOpen: firstRun.notesPerSec / rawWatched.docsPerSec }
          : {}),
        rerunOverFirstRun: rerun.notesPerSec / firstRun.notesPerSec,
        ...Object.fromEntries(scenarios.map((x) => [`${x.name}PipelinedOverLimit`, x.ratio])),
        realisticCrmCostToDbBoundRun:
          1 -
          (scenario('realistic')?.pipelined.notesPerSec ?? 0) /
            (scenario('instant')?.pipelined.notesPerSec ?? 1),
        realistic429Share: scenario('realistic')?.pipelined.crm.rateLimitedShare ?? 0,
        peakRssLargeOverSmall: firstRun.peakRssMb / smallRun.peakRssMb,
        normalizerOverSanitizeHtml: normalizer.ratio,
        waveUtilisation: wave.withBudget.utilisation,
        wave429Share: wave.withBudget.rateLimitedShare,
      },
      normalizer,
      scenarios,
      wave,
      targets: {
        pipelineOverRaw: '>= 0.5',
        scenarioPipelinedOverLimit: '>= 0.85 (every scenario)',
        realisticCrmCostToDbBoundRun: '<= 0.15',
        realistic429Share: '<= 0.01',
        peakRssMbAtLargeN: '<= 300',
        peakRssLargeOverSmall: '<= 1.15',
        rerunOverFirstRun: '>= 1.5',
        normalizerOverSanitizeHtml: '>= 0.8',
        waveUtilisation: '>= 0.8',
        wave429Share: '<= 0.01',
      },
      elapsedSeconds: Math.round((Date.now() - started) / 1000),
    };
    printTable(result);
    printScenarios(scenarios);
    printWave(wave);
    await mkdir(path.join(ROOT, 'bench-results'), { recursive: true });
    const out = path.join(
      ROOT,
      'bench-results',
      `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    );
    await writeFile(out, JSON.stringify(result, null, 2));
    say(`\n${JSON.stringify(result)}`);
    say(`written to ${path.relative(process.cwd(), out)}`);
  } finally {
    await crm.stop();
    await db.dropDatabase().catch(() => undefined);
    await mongo.close();
    await stopMongo?.();
  }
}

/** The wave scenario with the shared budget, then without it (same figures, fresh tenants). */
async function measureWaves(
  base: RunContext,
): Promise<{ withBudget: WaveFigures; withoutBudget: WaveFigures }> {
  const ctx = { ...base, pageSize: WAVE_PAGE_SIZE };
  const options = { tenants: WAVE_TENANTS, notesPerTenant: WAVE_NOTES, crmRatePerS: WAVE_RATE };
  say(
    `   with the shared budget: ${WAVE_TENANTS} tenants × ${WAVE_NOTES} notes, CRM R = ${WAVE_RATE} requests/s`,
  );
  const withBudget = await measureWave(ctx, { ...options, budget: true, cidBase: 9300 });
  say('   without it (each worker paces only itself):');
  const withoutBudget = await measureWave(ctx, { ...options, budget: false, cidBase: 9400 });
  return { withBudget, withoutBudget };
}

async function runWaveScenarios(
  ctx: RunContext,
  database: { kind: string; version: string },
  started: number,
) {
  say(`\n[wave] rollout wave, page size ${WAVE_PAGE_SIZE}`);
  const wave = await measureWaves(ctx);
  const result = {
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    database,
    pageSize: WAVE_PAGE_SIZE,
    wave,
    targets: { waveUtilisation: '>= 0.8', wave429Share: '<= 0.01' },
    elapsedSeconds: Math.round((Date.now() - started) / 1000),
  };
  printWave(wave);
  await mkdir(path.join(ROOT, 'bench-results'), { recursive: true });
  const out = path.join(
    ROOT,
    'bench-results',
    `bench-wave-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  await writeFile(out, JSON.stringify(result, null, 2));
  say(`\n${JSON.stringify(result)}`);
  say(`written to ${path.relative(process.cwd(), out)}`);
}

function printWave(wave: { withBudget: WaveFigures; withoutBudget: WaveFigures }) {
  const header = ['wave', 'state', 'notes/s', 'utilisation', '429 share', 'failed runs', 'members'];
  const rows = [wave.withBudget, wave.withoutBudget].map((f) => [
    f.budget ? 'shared budget (0.9 R)' : 'no budget',
    f.waveState,
    String(f.notesPerSec),
    `${f.utilisation.toFixed(2)} ${f.budget ? (f.utilisation >= 0.8 ? '✓' : '✗') : ''}`,
    `${(f.rateLimitedShare * 100).toFixed(1)}% ${f.budget ? (f.rateLimitedShare <= 0.01 ? '✓' : '✗') : ''}`,
    String(f.failedRuns),
    JSON.stringify(f.members),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  say('');
  for (const row of [header, ...rows]) say(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

function withDb(uri: string, dbName: string): string {
  const u = new URL(uri);
  u.pathname = `/${dbName}`;
  return u.toString();
}

function printTable(r: {
  endToEnd: RunFigures;
  endToEndSmall: RunFigures;
  rerun: RunFigures;
  rawWrite: { docsPerSec: number };
  rawWriteWithChangeStreamOpen: { docsPerSec: number } | null;
  ratios: Record<string, number>;
  normalizer: { normalizePerSec: number; plainPerSec: number };
}) {
  const rows: [string, string, string][] = [
    [
      `end to end, ${r.endToEnd.notes} notes`,
      `${r.endToEnd.notesPerSec} notes/s`,
      `p50 ${r.endToEnd.pageP50Ms} ms, p95 ${r.endToEnd.pageP95Ms} ms per page`,
    ],
    [
      `end to end, ${r.endToEndSmall.notes} notes`,
      `${r.endToEndSmall.notesPerSec} notes/s`,
      `p50 ${r.endToEndSmall.pageP50Ms} ms, p95 ${r.endToEndSmall.pageP95Ms} ms per page`,
    ],
    ['raw bulk upsert', `${r.rawWrite.docsPerSec} docs/s`, ''],
    ['pipeline ÷ raw', r.ratios.pipelineOverRaw!.toFixed(2), 'target >= 0.5'],
    ...(r.rawWriteWithChangeStreamOpen
      ? ([
          [
            'raw bulk upsert, change stream open',
            `${r.rawWriteWithChangeStreamOpen.docsPerSec} docs/s`,
            'what an idle worker holds on agendaJobs',
          ],
          [
            'pipeline ÷ raw (same conditions)',
            r.ratios.pipelineOverRawWithChangeStreamOpen!.toFixed(2),
            'both writing with a change stream open',
          ],
        ] as [string, string, string][])
      : []),
    [
      're-run (all skipped)',
      `${r.rerun.notesPerSec} notes/s`,
      `${r.ratios.rerunOverFirstRun!.toFixed(2)}x the first run (target >= 1.5)`,
    ],
    [`peak RSS at ${r.endToEnd.notes}`, `${r.endToEnd.peakRssMb} MB`, 'target <= 300 MB'],
    [
      `peak RSS at ${r.endToEndSmall.notes}`,
      `${r.endToEndSmall.peakRssMb} MB`,
      `large ÷ small ${r.ratios.peakRssLargeOverSmall!.toFixed(2)} (target <= 1.15)`,
    ],
    [
      'normalizer',
      `${r.normalizer.normalizePerSec} notes/s`,
      `sanitize-html ${r.normalizer.plainPerSec} notes/s, ratio ${r.ratios.normalizerOverSanitizeHtml!.toFixed(2)} (target >= 0.8)`,
    ],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  say('');
  for (const [a, b, c] of rows) say(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
}

function printScenarios(scenarios: ScenarioFigures[]) {
  const header = [
    'scenario',
    'pipelined',
    'limit',
    'ratio',
    'requests',
    '429s',
    'page p50/p95',
    'peak RSS',
    'sequential (ratio)',
  ];
  const rows = scenarios.map((x) => [
    x.name,
    `${x.pipelined.notesPerSec} notes/s`,
    `${Math.round(x.limitNotesPerSec)} (${x.limitedBy === 'min' ? 'min(write, fetch)' : x.limitedBy})`,
    `${x.ratio.toFixed(2)} ${x.ratio >= 0.85 ? '✓' : '✗'}`,
    String(x.pipelined.crm.requests),
    `${x.pipelined.crm.rateLimited} (${(x.pipelined.crm.rateLimitedShare * 100).toFixed(1)}%)`,
    `${x.pipelined.pageP50Ms} / ${x.pipelined.pageP95Ms} ms`,
    `${x.pipelined.peakRssMb} MB`,
    `${x.sequential.notesPerSec} notes/s (${x.sequentialRatio.toFixed(2)})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  say('');
  for (const row of [header, ...rows]) say(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  say(
    `fetch limits: ${scenarios.map((x) => `${x.name} ${x.fetchLimit.notesPerSecond} notes/s (${x.fetchLimit.inFlight} in flight), ${x.sequentialFetchLimit.notesPerSecond} (1)`).join(' · ')}; write limits (docs/s) ${scenarios.map((x) => `${x.name} ${x.writeLimitDocsPerSec}`).join(' · ')}`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
