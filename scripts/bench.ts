/**
 * `npm run bench` (issue #8): one run on one machine and one database, printing a table and JSON.
 *   - end to end: N clean notes over HTTP from the fake CRM through a real worker process
 *     (normalize, resolve, upsert) → notes/s, p50/p95 page latency, the worker's peak RSS;
 *   - raw write limit: the same finished documents bulk-upserted into a collection with the same
 *     indexes → docs/s, and pipeline ÷ raw; measured twice: on a quiet database, and with the
 *     change stream open that every idle worker holds on `agendaJobs` (the conditions the
 *     pipeline writes under when change streams are on);
 *   - re-run of the same tenant (everything skipped) → notes/s;
 *   - normalizer vs plain sanitize-html;
 *   - peak RSS at a small and a large N (must stay flat: one page in memory at a time).
 * Options: --notes N (default 100000), --small N (default 10000), --page-size N (default 500).
 * Uses MONGODB_URI when set, else the embedded database. Not part of the tests.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { AnyBulkWriteOperation, Db } from 'mongodb';

import { INDEX_MIGRATIONS } from '../migrations/index.js';
import { parseConfig } from '../src/config.js';
import { seedCdp } from '../src/crm/fake/cdp-seed.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm, startFakeCrm } from '../src/crm/fake/fake-crm-server.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../src/crm/fake/fake-tenant-options.js';
import type { ContactNoteDoc, RunDoc } from '../src/db/documents.js';
import { startEmbeddedMongo } from '../src/db/embedded-mongo.js';
import { createIndexMigrationRunner } from '../src/db/index-migrations.js';
import { connectMongo } from '../src/db/mongo-client.js';
import { createRepositories, type Repositories } from '../src/db/repositories.js';
import { MIGRATION_FLAG } from '../src/domain.js';
import { createAgenda } from '../src/jobs/agenda-factory.js';
import { createAgendaJobQueue } from '../src/jobs/agenda-job-queue.js';
import { createLogger } from '../src/logger.js';
import { createRunConfigStamp } from '../src/migration/run-config-stamp.js';
import { createTriggerDeps } from '../src/migration/run-deps.js';
import { triggerMigration } from '../src/migration/trigger-migration.js';
import { readServiceVersion } from '../src/service-version.js';
import { measureNormalizerThroughput } from './normalizer-throughput.js';

const logger = createLogger({ level: 'warn', name: 'bench' });
const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

/** The flags the `notes-migrator` bin and the Dockerfile run with (package.json "//memory"). */
const WORKER_NODE_FLAGS = (
  process.env.BENCH_WORKER_NODE_FLAGS ?? '--max-semi-space-size=4 --max-old-space-size=256'
)
  .split(' ')
  .filter(Boolean);

const N = arg('notes', 100_000);
const SMALL = arg('small', 10_000);
const PAGE_SIZE = arg('page-size', 500);

interface RunFigures {
  notes: number;
  seconds: number;
  notesPerSec: number;
  pageP50Ms: number;
  pageP95Ms: number;
  peakRssMb: number;
  /** Resident set (MB) sampled at 25/50/75/100% progress: flat means one page in memory at a time. */
  rssByProgressMb: Record<string, number>;
  /** Mean milliseconds per page by pipeline step. */
  stepMeansMs: Record<string, number>;
  status: string;
  migrated: number;
  skipped: number;
}

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
    const workerUri = withDb(uri, dbName);

    say(`\n[1/5] end to end, ${SMALL.toLocaleString('en-US')} notes`);
    const smallRun = await measuredRun(db, repos, crm, workerUri, small);
    say(`[2/5] end to end, ${N.toLocaleString('en-US')} notes`);
    const firstRun = await measuredRun(db, repos, crm, workerUri, large);
    say('[3/5] re-run of the same tenant (every note already in CDP)');
    // A successful CID refuses a new trigger (409 ALREADY_MIGRATED); operators re-run after any
    // other outcome, so the measurement re-opens the CID the way such an outcome would.
    await db
      .collection<RunDoc>('migration_runs')
      .updateMany({ cid: large.cid }, { $set: { status: 'completed_with_errors' } });
    const rerun = await measuredRun(db, repos, crm, workerUri, large);
    say('[4/5] raw write limit: the same finished documents, bulk-upserted');
    const raw = await rawWriteLimit(db, large.companySsoId, 'contact_notes_raw_bench', false);
    const rawWatched =
      process.env.BENCH_CHANGE_STREAMS === 'off'
        ? null
        : await rawWriteLimit(db, large.companySsoId, 'contact_notes_raw_bench_watched', true);
    say('[5/5] normalizer vs plain sanitize-html');
    const normalizer = measureNormalizerThroughput({ count: 20_000, seed: 20_240_501, rounds: 2 });

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
        peakRssLargeOverSmall: firstRun.peakRssMb / smallRun.peakRssMb,
        normalizerOverSanitizeHtml: normalizer.ratio,
      },
      normalizer,
      targets: {
        pipelineOverRaw: '>= 0.5',
        peakRssMbAtLargeN: '<= 300',
        peakRssLargeOverSmall: '<= 1.15',
        rerunOverFirstRun: '>= 1.5',
        normalizerOverSanitizeHtml: '>= 0.8',
      },
      elapsedSeconds: Math.round((Date.now() - started) / 1000),
    };
    printTable(result);
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

function withDb(uri: string, dbName: string): string {
  const u = new URL(uri);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/** Triggers a run, lets one real worker process carry it, and measures it. */
async function measuredRun(
  db: Db,
  repos: Repositories,
  crm: FakeCrm,
  workerUri: string,
  tenant: FakeTenantOptions,
): Promise<RunFigures> {
  const agenda = await createAgenda({
    db,
    name: 'bench',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger,
  });
  const { runId } = await triggerMigration(
    createTriggerDeps({
      repos,
      extractor: { probeOrganization: () => Promise.resolve({ total: tenant.noteCount }) },
      jobs: createAgendaJobQueue(agenda, db),
      pageSize: PAGE_SIZE,
      configStamp: createRunConfigStamp(
        parseConfig({ CRM_PAGE_SIZE: String(PAGE_SIZE) }),
        readServiceVersion(),
      ),
      logger,
      now: () => new Date(),
    }),
    {
      cid: tenant.cid,
      companySsoId: tenant.companySsoId,
      kind: 'migrate',
      mode: 'restart',
      triggeredBy: 'bench',
    },
  );
  await agenda.stop(false);

  const worker = spawn(process.execPath, [...WORKER_NODE_FLAGS, CLI, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MONGODB_URI: workerUri,
      CRM_API_ROOT_URL: crm.url,
      CRM_API_AUTH: FAKE_CRM_DEFAULT_AUTH,
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: '1',
      AGENDA_PROCESS_EVERY_MS: '1000',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(process.env.BENCH_CHANGE_STREAMS ? { CHANGE_STREAMS: process.env.BENCH_CHANGE_STREAMS } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pageMs: number[] = [];
  const stepTotals: Record<string, number> = {};
  let buffered = '';
  worker.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.includes('"page done"')) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.page_ms === 'number') pageMs.push(parsed.page_ms);
      for (const [k, v] of Object.entries(parsed)) {
        if (k.endsWith('_ms') && k !== 'page_ms' && typeof v === 'number')
          stepTotals[k] = (stepTotals[k] ?? 0) + v;
      }
    }
  });
  const exited = new Promise<void>((resolve) => worker.on('exit', () => resolve()));
  let run: RunDoc | null;
  const rssByProgressMb: Record<string, number> = {};
  try {
    for (;;) {
      run = await repos.runs.get(runId);
      for (const mark of [25, 50, 75, 100]) {
        if (run && run.progress_pct >= mark && rssByProgressMb[`${mark}%`] === undefined) {
          rssByProgressMb[`${mark}%`] = rssOf(worker.pid);
        }
      }
      if (run && run.status !== 'in_progress') break;
      if (worker.exitCode !== null)
        throw new Error(`worker exited with ${worker.exitCode} before the run ended`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const peakRssMb = peakRssOf(worker.pid);
    worker.kill('SIGTERM');
    await exited;
    const seconds = ((run.finished_at?.getTime() ?? 0) - (run.started_at?.getTime() ?? 0)) / 1000;
    const figures: RunFigures = {
      notes: run.notes_processed,
      seconds,
      notesPerSec: Math.round(run.notes_processed / seconds),
      pageP50Ms: percentile(pageMs, 0.5),
      pageP95Ms: percentile(pageMs, 0.95),
      peakRssMb,
      rssByProgressMb,
      stepMeansMs: Object.fromEntries(
        Object.entries(stepTotals).map(([k, v]) => [k, Math.round(v / Math.max(1, pageMs.length))]),
      ),
      status: run.status,
      migrated: run.notes_migrated,
      skipped: run.notes_skipped,
    };
    say(
      `      ${figures.status}: ${figures.notesPerSec} notes/s, p50 page ${figures.pageP50Ms} ms, peak RSS ${figures.peakRssMb} MB`,
    );
    say(
      `      RSS by progress: ${Object.entries(rssByProgressMb)
        .map(([k, v]) => `${k} ${v} MB`)
        .join(', ')}`,
    );
    say(
      `      mean per page: ${Object.entries(figures.stepMeansMs)
        .map(([k, v]) => `${k.replace(/_ms$/, '')} ${v} ms`)
        .join(', ')}`,
    );
    return figures;
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
  }
}

/** The worker's peak resident set (VmHWM), read from /proc while it is still alive. */
function peakRssOf(pid: number | undefined): number {
  return procStatusMb(pid, 'VmHWM');
}

function rssOf(pid: number | undefined): number {
  return procStatusMb(pid, 'VmRSS');
}

function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return Math.round(kb / 1024);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** Upserts the pipeline's own output into a fresh collection with the same indexes; only writes are timed. */
async function rawWriteLimit(
  db: Db,
  companySsoId: string,
  collectionName: string,
  withWorkerChangeStream: boolean,
): Promise<{ docs: number; seconds: number; docsPerSec: number }> {
  const target = db.collection<Omit<ContactNoteDoc, '_id'>>(collectionName);
  // The same stream MongoChangeStreamNotificationChannel opens in an idle worker.
  const stream = withWorkerChangeStream
    ? db
        .collection('agendaJobs')
        .watch([{ $match: { operationType: { $in: ['insert', 'update', 'replace'] } } }], {
          fullDocument: 'updateLookup',
        })
    : null;
  stream?.on('change', () => undefined);
  if (stream) await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (const idx of await db.collection('contact_notes').listIndexes().toArray()) {
    if (idx.name === '_id_') continue;
    const { key, name, unique, partialFilterExpression } = idx as {
      key: Record<string, 1 | -1>;
      name: string;
      unique?: boolean;
      partialFilterExpression?: Record<string, unknown>;
    };
    await target.createIndex(key, {
      name,
      ...(unique ? { unique } : {}),
      ...(partialFilterExpression ? { partialFilterExpression } : {}),
    });
  }
  let writeMs = 0;
  let docs = 0;
  let batch: AnyBulkWriteOperation<Omit<ContactNoteDoc, '_id'>>[] = [];
  const flush = async () => {
    const began = performance.now();
    await target.bulkWrite(batch, { ordered: false });
    writeMs += performance.now() - began;
    docs += batch.length;
    batch = [];
  };
  const cursor = db
    .collection<ContactNoteDoc>('contact_notes')
    .find({ company_sso_id: companySsoId }, { projection: { _id: 0 } });
  for await (const doc of cursor) {
    batch.push({
      updateOne: {
        filter: { company_sso_id: doc.company_sso_id, legacy_crm_note_id: doc.legacy_crm_note_id },
        update: { $setOnInsert: doc },
        upsert: true,
      },
    });
    if (batch.length === PAGE_SIZE) await flush();
  }
  if (batch.length > 0) await flush();
  await stream?.close();
  const seconds = writeMs / 1000;
  say(
    `      ${Math.round(docs / seconds)} docs/s${withWorkerChangeStream ? ' (a worker change stream open)' : ''}`,
  );
  return { docs, seconds, docsPerSec: Math.round(docs / seconds) };
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

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
