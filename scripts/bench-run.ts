/**
 * One measured migration run for `npm run bench`: trigger over the real trigger logic, let one
 * real worker process (the built binary, the production heap flags) carry it, and read its figures
 * — notes/s, page cycle times, per-step means, RSS by progress — from the run document, the
 * worker's `page done` log lines and /proc.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Db } from 'mongodb';

import { parseConfig } from '../src/config.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../src/crm/fake/fake-crm-server.js';
import type { FakeTenantOptions } from '../src/crm/fake/fake-tenant-options.js';
import type { RunDoc } from '../src/db/documents.js';
import type { Repositories } from '../src/db/repositories.js';
import { createAgenda } from '../src/jobs/agenda-factory.js';
import { createAgendaJobQueue } from '../src/jobs/agenda-job-queue.js';
import type { Logger } from '../src/logger.js';
import { createRunConfigStamp } from '../src/migration/run-config-stamp.js';
import { createTriggerDeps } from '../src/migration/run-deps.js';
import { triggerMigration } from '../src/migration/trigger-migration.js';
import { readServiceVersion } from '../src/service-version.js';

/** The flags the `notes-migrator` bin and the Dockerfile run with (package.json "//memory"). */
export const WORKER_NODE_FLAGS = (
  process.env.BENCH_WORKER_NODE_FLAGS ?? '--max-semi-space-size=4 --max-old-space-size=256'
)
  .split(' ')
  .filter(Boolean);

export interface RunFigures {
  notes: number;
  seconds: number;
  notesPerSec: number;
  pageP50Ms: number;
  pageP95Ms: number;
  peakRssMb: number;
  /** Resident set (MB) sampled at 25/50/75/100% progress: flat means bounded pages in memory. */
  rssByProgressMb: Record<string, number>;
  /** Mean milliseconds per page by pipeline step. */
  stepMeansMs: Record<string, number>;
  status: string;
  migrated: number;
  skipped: number;
  pagePrefetch: number;
}

export interface RunContext {
  db: Db;
  repos: Repositories;
  workerUri: string;
  cli: string;
  pageSize: number;
  logger: Logger;
  say: (line: string) => void;
}

/** Triggers a run, lets one real worker process carry it, and measures it. */
export async function measuredRun(
  ctx: RunContext,
  crm: FakeCrm,
  tenant: FakeTenantOptions,
  pagePrefetch: number,
): Promise<RunFigures> {
  const runId = await trigger(ctx, tenant);
  const worker = spawn(process.execPath, [...WORKER_NODE_FLAGS, ctx.cli, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MONGODB_URI: ctx.workerUri,
      CRM_API_ROOT_URL: crm.url,
      CRM_API_AUTH: FAKE_CRM_DEFAULT_AUTH,
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: '1',
      AGENDA_PROCESS_EVERY_MS: '1000',
      PAGE_PREFETCH: String(pagePrefetch),
      CRM_PAGE_SIZE: String(ctx.pageSize),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(process.env.BENCH_CHANGE_STREAMS ? { CHANGE_STREAMS: process.env.BENCH_CHANGE_STREAMS } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pages = collectPageLines(worker.stdout);
  const exited = new Promise<void>((resolve) => worker.on('exit', () => resolve()));
  try {
    const { run, rssByProgressMb } = await followRun(ctx, runId, worker);
    const peakRssMb = procStatusMb(worker.pid, 'VmHWM');
    worker.kill('SIGTERM');
    await exited;
    const figures = figuresOf(run, pages, { peakRssMb, rssByProgressMb, pagePrefetch });
    report(ctx, figures);
    return figures;
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
  }
}

async function trigger(ctx: RunContext, tenant: FakeTenantOptions): Promise<string> {
  const agenda = await createAgenda({
    db: ctx.db,
    name: 'bench',
    processEveryMs: 60_000,
    lockLifetimeMs: 60_000,
    concurrency: 1,
    logger: ctx.logger,
  });
  try {
    const { runId } = await triggerMigration(
      createTriggerDeps({
        repos: ctx.repos,
        extractor: { probeOrganization: () => Promise.resolve({ total: tenant.noteCount }) },
        jobs: createAgendaJobQueue(agenda, ctx.db),
        pageSize: ctx.pageSize,
        configStamp: createRunConfigStamp(
          parseConfig({ CRM_PAGE_SIZE: String(ctx.pageSize) }),
          readServiceVersion(),
        ),
        logger: ctx.logger,
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
    return runId;
  } finally {
    await agenda.stop(false);
  }
}

interface PageLines {
  pageMs: number[];
  stepTotals: Record<string, number>;
}

function collectPageLines(stdout: NodeJS.ReadableStream): PageLines {
  const lines: PageLines = { pageMs: [], stepTotals: {} };
  let buffered = '';
  stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.includes('"page done"')) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.page_ms === 'number') lines.pageMs.push(parsed.page_ms);
      for (const [k, v] of Object.entries(parsed)) {
        if (k.endsWith('_ms') && k !== 'page_ms' && typeof v === 'number')
          lines.stepTotals[k] = (lines.stepTotals[k] ?? 0) + v;
      }
    }
  });
  return lines;
}

async function followRun(
  ctx: RunContext,
  runId: string,
  worker: { pid?: number | undefined; exitCode: number | null },
): Promise<{ run: RunDoc; rssByProgressMb: Record<string, number> }> {
  const rssByProgressMb: Record<string, number> = {};
  for (;;) {
    const run = await ctx.repos.runs.get(runId);
    for (const mark of [25, 50, 75, 100]) {
      if (run && run.progress_pct >= mark && rssByProgressMb[`${mark}%`] === undefined) {
        rssByProgressMb[`${mark}%`] = procStatusMb(worker.pid, 'VmRSS');
      }
    }
    if (run && run.status !== 'in_progress') return { run, rssByProgressMb };
    if (worker.exitCode !== null)
      throw new Error(`worker exited with ${worker.exitCode} before the run ended`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function figuresOf(
  run: RunDoc,
  pages: PageLines,
  extra: Pick<RunFigures, 'peakRssMb' | 'rssByProgressMb' | 'pagePrefetch'>,
): RunFigures {
  const seconds = ((run.finished_at?.getTime() ?? 0) - (run.started_at?.getTime() ?? 0)) / 1000;
  return {
    notes: run.notes_processed,
    seconds,
    notesPerSec: Math.round(run.notes_processed / seconds),
    pageP50Ms: percentile(pages.pageMs, 0.5),
    pageP95Ms: percentile(pages.pageMs, 0.95),
    ...extra,
    stepMeansMs: Object.fromEntries(
      Object.entries(pages.stepTotals).map(([k, v]) => [k, Math.round(v / Math.max(1, pages.pageMs.length))]),
    ),
    status: run.status,
    migrated: run.notes_migrated,
    skipped: run.notes_skipped,
  };
}

function report(ctx: RunContext, f: RunFigures): void {
  ctx.say(
    `      ${f.status}: ${f.notesPerSec} notes/s (PAGE_PREFETCH=${f.pagePrefetch}), p50 page ${f.pageP50Ms} ms, p95 ${f.pageP95Ms} ms, peak RSS ${f.peakRssMb} MB`,
  );
  ctx.say(
    `      RSS by progress: ${Object.entries(f.rssByProgressMb)
      .map(([k, v]) => `${k} ${v} MB`)
      .join(', ')}`,
  );
  ctx.say(
    `      mean per page: ${Object.entries(f.stepMeansMs)
      .map(([k, v]) => `${k.replace(/_ms$/, '')} ${v} ms`)
      .join(', ')}`,
  );
}

export function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return Math.round(kb / 1024);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export const CLI_PATH = (root: string) => path.join(root, 'dist/src/cli.js');
