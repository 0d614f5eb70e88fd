/**
 * `notes-migrator demo` (`npm run demo`): a whole migration on embedded defaults — MongoDB, an
 * in-process S3 and the fake CRM with a generated tenant — driven the way an operator would:
 * index migrations, flag on, API + worker up, (with --dry-run first a forecast,) trigger over
 * HTTP, live progress, final report. Exit 0 when the run completes (with or without errors), 1
 * otherwise; with --expect-plan also 4 when the report differs from what the fake CRM planted or
 * (with --dry-run) from what the forecast said.
 */
import type { Command } from 'commander';

import { INDEX_MIGRATIONS } from '../../migrations/index.js';
import type { App } from '../app.js';
import {
  FAKE_TENANT_PRESETS,
  type FakeTenantPreset,
  resolveFakeTenant,
} from '../crm/fake/fake-tenant-options.js';
import type { RunDoc } from '../db/documents.js';
import { createIndexMigrationRunner } from '../db/index-migrations.js';
import { isTerminalStatus, MIGRATION_FLAG, type ReasonCode } from '../domain.js';
import { createLogger } from '../logger.js';
import { forecastViewOf } from '../migration/forecast.js';
import { type ApiClient, createApiClient } from './api-client.js';
import { type CliIo, EXIT, loadConfigOrReport, writeLine } from './cli-io.js';
import { parseCid, parsePositiveInt } from './cli-values.js';
import { buildDemoReport } from './demo-report.js';
import { compareForecastWithRun } from './forecast-check.js';
import { forecastLines } from './forecast-report.js';
import { createProgressView, type StatusUpdate } from './progress-view.js';
import { startRuntime } from './runtime.js';

/** Exit code when --expect-plan finds the report differs from the plan. */
const EXIT_PLAN_MISMATCH = 4;

interface DemoOptions {
  notes: string;
  preset: string;
  cid: string;
  company: string;
  seed: string;
  expectPlan?: boolean;
  dryRun?: boolean;
}

/** Triggers a run over HTTP and follows its status stream to the end; returns the run id. */
async function triggerAndFollow(
  io: CliIo,
  client: ApiClient,
  cid: string,
  body: { cid: string; company_sso_id: string; kind?: string; verify_attachments?: boolean },
): Promise<string> {
  const triggered = await client.post<{ run_id: string; job_id: string }>('/private/notes/migrate', body);
  writeLine(
    io.stdout,
    `Triggered ${body.kind ?? 'migrate'} run ${triggered.run_id} (job ${triggered.job_id}) over HTTP; following its status stream:`,
  );
  const view = createProgressView(io.stdout, `CID ${cid}`);
  await client.events(`/private/notes/migration/status/stream?cid=${cid}`, (event) => {
    if (event.event === 'end') return true;
    if (event.event !== 'status') return false;
    const update = JSON.parse(event.data) as StatusUpdate & { run_id?: string };
    // The stream follows the CID's latest run: wait for this one's end.
    if (update.run_id !== triggered.run_id) return false;
    view.update(update);
    return isTerminalStatus(update.status);
  });
  view.stop();
  return triggered.run_id;
}

export function registerDemoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('Run a whole migration on embedded defaults (MongoDB, S3, fake CRM) and print a report')
    .option('--notes <n>', 'notes in the generated tenant', '5000')
    .option('--preset <preset>', `tenant mix: ${FAKE_TENANT_PRESETS.join(', ')}`, 'realistic')
    .option('--cid <cid>', 'CID of the generated tenant', '1001')
    .option('--company <companySsoId>', 'company_sso_id of the generated tenant', 'demo-company')
    .option('--seed <n>', 'generator seed (same seed, same notes)', '1')
    .option('--expect-plan', 'exit 4 unless every figure equals what the generator planted')
    .option(
      '--dry-run',
      'forecast first (a dry run with attachments downloaded and checked), then migrate and compare figure by figure',
    )
    .action(async (opts: DemoOptions) => {
      const notes = parsePositiveInt(opts.notes, '--notes');
      const seed = parsePositiveInt(opts.seed, '--seed');
      const cid = parseCid(opts.cid);
      const problems = [notes, seed, cid].filter((p) => !p.ok).map((p) => (p.ok ? '' : p.message));
      if (!(FAKE_TENANT_PRESETS as readonly string[]).includes(opts.preset)) {
        problems.push(
          `--preset must be one of ${FAKE_TENANT_PRESETS.join(', ')}, got ${JSON.stringify(opts.preset)}`,
        );
      }
      if (!notes.ok || !seed.ok || !cid.ok || problems.length > 0) {
        for (const p of problems) writeLine(io.stderr, p);
        io.setExitCode(EXIT.rejected);
        return;
      }
      const base = loadConfigOrReport(io);
      if (!base) return;
      // Per-note problems are in the report and the failure log; the terminal shows errors only
      // unless LOG_LEVEL asks for more.
      const logLevel = io.env.LOG_LEVEL ?? 'error';
      const logger = createLogger({ level: logLevel, name: 'crm-notes-migrator:demo' });
      const tenantOptions = {
        cid: cid.value,
        companySsoId: opts.company,
        noteCount: notes.value,
        seed: seed.value,
        preset: opts.preset as FakeTenantPreset,
      };

      // Loaded here, not at start-up: the fake CRM and the embedded servers weigh ~100 MB that
      // every other command (the worker above all) should not carry.
      const { startEmbeddedStack } = await import('../embedded/embedded-stack.js');
      const { seedCdp } = await import('../crm/fake/cdp-seed.js');
      writeLine(
        io.stdout,
        `Starting the embedded stack (${base.mongo.uri ? 'MONGODB_URI' : 'embedded MongoDB'}, in-process S3, fake CRM with ${notes.value} notes)…`,
      );
      const stack = await startEmbeddedStack({
        logger,
        mongoUri: base.mongo.uri,
        mongodBinary: io.env.MONGOMS_SYSTEM_BINARY,
        tenant: tenantOptions,
      });
      try {
        const runtime = await startRuntime(io, 'demo', {
          ...stack.env,
          HTTP_PORT: io.env.HTTP_PORT ?? '0',
          LOG_LEVEL: logLevel,
        });
        if (!runtime) return;
        const { app, config } = runtime;
        try {
          const applied = await createIndexMigrationRunner(app.db, INDEX_MIGRATIONS).up();
          const seeded = await seedCdp(app.db, resolveFakeTenant(tenantOptions));
          await app.repos.featureFlags.setFlag(cid.value, MIGRATION_FLAG, true, app.now());
          writeLine(
            io.stdout,
            `MongoDB: ${stack.mongoKind} · index migrations applied: ${applied.length} · CDP seed: ${seeded.contacts.upserted} contacts, ${seeded.users.upserted} users · flag ${MIGRATION_FLAG} on for CID ${cid.value}`,
          );
          await app.startWorker();
          const server = await app.startApi();
          writeLine(
            io.stdout,
            `API: ${server.url} (Basic ${config.http.apiUsername}:…) · CRM: ${stack.crm.url} · S3: ${stack.s3.endpoint}`,
          );

          const client = createApiClient({
            baseUrl: server.url,
            username: config.http.apiUsername,
            password: config.http.apiPassword,
          });
          const dryRun = opts.dryRun ? await forecastFirst(io, app, client, cid.value, opts.company) : null;
          const started = Date.now();
          const runId = await triggerAndFollow(io, client, cid.value, {
            cid: cid.value,
            company_sso_id: opts.company,
          });
          const run = await app.repos.runs.get(runId);
          if (!run) throw new Error(`run ${runId} disappeared`);
          const problemsByReason = await app.repos.failures.countByReason(run._id);
          const report = buildDemoReport({
            run,
            plan: stack.plan,
            problemsByReason,
            elapsedMs: Date.now() - started,
            statusUrl: `${server.url}/private/notes/migration/status?cid=${cid.value}`,
            cid: cid.value,
          });
          for (const line of report.lines) writeLine(io.stdout, line);
          const forecastMatches = dryRun ? printForecastCheck(io, dryRun, run, problemsByReason) : true;
          const completed = run.status === 'completed_success' || run.status === 'completed_with_errors';
          if (!completed) io.setExitCode(EXIT.unexpected);
          else if (opts.expectPlan && !(report.matchesPlan && forecastMatches)) {
            io.setExitCode(EXIT_PLAN_MISMATCH);
          }
        } finally {
          await app.stop();
        }
      } finally {
        await stack.stop();
      }
    });
}

/** The dry run before the migration: nothing written, the forecast printed. */
async function forecastFirst(
  io: CliIo,
  app: App,
  client: ApiClient,
  cid: string,
  companySsoId: string,
): Promise<RunDoc> {
  const runId = await triggerAndFollow(io, client, cid, {
    cid,
    company_sso_id: companySsoId,
    kind: 'dry_run',
    // Downloads checked too, so the forecast names every attachment problem the migration will meet.
    verify_attachments: true,
  });
  const dryRun = await app.repos.runs.get(runId);
  const forecast = dryRun ? forecastViewOf(dryRun) : null;
  if (!dryRun || !forecast) throw new Error(`dry run ${runId} has no forecast`);
  for (const line of forecastLines(cid, forecast)) writeLine(io.stdout, line);
  writeLine(io.stdout, '');
  return dryRun;
}

/** Prints whether the migration reported what the dry run forecast; true when every figure matches. */
function printForecastCheck(
  io: CliIo,
  dryRun: RunDoc,
  run: RunDoc,
  problemsByReason: Partial<Record<ReasonCode, number>>,
): boolean {
  const checks = compareForecastWithRun(dryRun, run, problemsByReason);
  const ok = checks.every((c) => c.ok);
  writeLine(io.stdout, `Forecast of run ${dryRun._id} vs the real run: ${ok ? 'all match' : 'MISMATCH'}`);
  for (const c of checks.filter((x) => !x.ok)) {
    writeLine(io.stdout, `    ${c.what}: forecast ${c.forecast}, observed ${c.observed}`);
  }
  return ok;
}
