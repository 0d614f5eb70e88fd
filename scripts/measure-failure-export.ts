/**
 * Measures the memory of a failure export (issue #7: "streams with flat memory"): seeds N
 * failure records (default 100,000), serves the real HTTP app, downloads the CSV and NDJSON
 * exports while sampling RSS and heap every 50 ms, and — for contrast — loads the same records
 * with `toArray()`. Prints a table. Uses MONGODB_URI when set, else the embedded test server.
 *
 *   npm run build && node --expose-gc dist/scripts/measure-failure-export.js [count]
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { MongoClient, ObjectId } from 'mongodb';
import { request } from 'undici';

import { INDEX_MIGRATIONS } from '../migrations/index.js';
import { parseConfig } from '../src/config.js';
import { startEmbeddedMongo } from '../src/db/embedded-mongo.js';
import { createIndexMigrationRunner } from '../src/db/index-migrations.js';
import { getCollections } from '../src/db/mongo-client.js';
import { createRepositories } from '../src/db/repositories.js';
import { createHttpApp } from '../src/http/create-http-app.js';
import { createRunStatusFeed } from '../src/http/run-status-feed.js';
import { startHttpServer } from '../src/http/start-http-server.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { createRunConfigStamp } from '../src/migration/run-config-stamp.js';
import { createCancelDeps, createTriggerDeps } from '../src/migration/run-deps.js';
import { readServiceVersion } from '../src/service-version.js';

const COUNT = Number(process.argv[2] ?? process.env.COUNT ?? 100_000);
const MB = 1024 * 1024;

interface Sample {
  rss: number;
  heapUsed: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  g?.();
}

function snapshot(): Sample {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/** Samples every 50 ms; every 10th sample runs a full GC first, so `live` is what is really retained. */
function sampler() {
  const samples: Sample[] = [];
  const live: Sample[] = [];
  let n = 0;
  const timer = setInterval(() => {
    if (++n % 10 === 0) {
      gc();
      live.push(snapshot());
    } else samples.push(snapshot());
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return { samples: [...samples, ...live], live };
    },
  };
}

const fmt = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

async function main() {
  const logger = createLogger({ level: 'warn', name: 'measure-export' });
  const embedded = process.env.MONGODB_URI
    ? undefined
    : await startEmbeddedMongo({ logger, skipMemoryServer: true });
  const uri = process.env.MONGODB_URI ?? embedded!.uri;
  const client = await MongoClient.connect(uri, { ignoreUndefined: true });
  const db = client.db(`cnm_measure_export_${randomBytes(3).toString('hex')}`);
  try {
    await createIndexMigrationRunner(db, INDEX_MIGRATIONS).up();
    const failures = getCollections(db).failures;
    const seedStarted = Date.now();
    for (let start = 0; start < COUNT; start += 5_000) {
      const n = Math.min(5_000, COUNT - start);
      await failures.insertMany(
        Array.from({ length: n }, (_, k) => ({
          _id: new ObjectId(),
          cid: '1',
          company_sso_id: 'co-1',
          run_id: 'run-measure',
          legacy_crm_note_id: String(start + k + 1),
          reason_code: 'CONTACT_NOT_MAPPED' as const,
          severity: 'failure' as const,
          details: { crm_person_id: String(start + k), note_excerpt: 'x'.repeat(200) },
          created_at: new Date(),
        })),
        { ordered: false },
      );
    }
    process.stdout.write(`seeded ${COUNT} failure records in ${Date.now() - seedStarted} ms\n`);

    const repos = createRepositories(db);
    const metrics = createMetrics({ defaultMetrics: false });
    const app = createHttpApp({
      trigger: createTriggerDeps({
        repos,
        extractor: { probeOrganization: () => Promise.resolve({ total: 0 }) },
        jobs: { enqueue: () => Promise.resolve(randomUUID()), exists: () => Promise.resolve(true) },
        pageSize: 500,
        configStamp: createRunConfigStamp(parseConfig({}), readServiceVersion()),
        logger,
        now: () => new Date(),
      }),
      cancel: createCancelDeps({ repos, now: () => new Date() }),
      rollbackNotes: repos.contactNotes,
      runs: repos.runs,
      failures: repos.failures,
      readPath: { contactNotes: repos.contactNotes, contacts: repos.contacts, users: repos.users },
      statusSource: createRunStatusFeed({ runs: repos.runs, kind: 'polling', pollMs: 1_000, logger }),
      metrics,
      pingDatabase: () => db.command({ ping: 1 }),
      logger,
      config: { apiUsername: 'ops', apiPassword: 'measure', readApiToken: undefined, maxBodyBytes: 16_384 },
      now: () => new Date(),
    });
    const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
    const auth = `Basic ${Buffer.from('ops:measure').toString('base64')}`;

    const rows: string[][] = [];
    for (const format of ['csv', 'ndjson'] as const) {
      gc();
      const before = snapshot();
      const s = sampler();
      const started = Date.now();
      const res = await request(`${server.url}/private/notes/migration/failures?cid=1&format=${format}`, {
        headers: { authorization: auth },
      });
      let bytes = 0;
      let lines = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        bytes += buf.length;
        for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
      }
      const ms = Date.now() - started;
      const { samples: during, live } = s.stop();
      gc();
      const after = snapshot();
      const peakRss = Math.max(...during.map((d) => d.rss), after.rss);
      const peakHeap = Math.max(...during.map((d) => d.heapUsed), after.heapUsed);
      const liveHeaps = live.map((d) => d.heapUsed);
      const liveRange = liveHeaps.length
        ? `${fmt(Math.min(...liveHeaps))}–${fmt(Math.max(...liveHeaps))} (${liveHeaps.length} samples)`
        : '-';
      rows.push([
        `${format} export`,
        `${lines} lines, ${fmt(bytes)} in ${ms} ms`,
        fmt(before.rss),
        fmt(peakRss),
        fmt(after.rss),
        fmt(before.heapUsed),
        fmt(peakHeap),
        liveRange,
        fmt(after.heapUsed),
      ]);
    }

    gc();
    const before = snapshot();
    const all = await failures.find({ cid: '1' }).toArray();
    const loaded = snapshot();
    rows.push([
      'contrast: toArray()',
      `${all.length} documents in memory`,
      fmt(before.rss),
      fmt(loaded.rss),
      '-',
      fmt(before.heapUsed),
      fmt(loaded.heapUsed),
      '-',
      '-',
    ]);

    const header = [
      'case',
      'transferred',
      'RSS before',
      'RSS peak',
      'RSS after',
      'heap before',
      'heap peak (incl. garbage)',
      'live heap during (after GC)',
      'heap after',
    ];
    process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
    for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
    if (!(globalThis as { gc?: unknown }).gc)
      process.stdout.write('(run with node --expose-gc for settled before/after figures)\n');
    await server.close();
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
    await embedded?.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
