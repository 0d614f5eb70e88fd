/**
 * `notes-migrator demo` (`npm run demo`): a whole migration on embedded defaults — MongoDB, an
 * in-process S3 and the fake CRM with a generated tenant — driven the way an operator would:
 * index migrations, flag on, API + worker up, trigger over HTTP, live progress, final report.
 * Exit 0 when the run completes (with or without errors), 1 otherwise; with --expect-plan also 4
 * when the report differs from what the fake CRM planted.
 */
import type { Command } from 'commander';

import { INDEX_MIGRATIONS } from '../../migrations/index.js';
import {
  FAKE_TENANT_PRESETS,
  type FakeTenantPreset,
  resolveFakeTenant,
} from '../crm/fake/fake-tenant-options.js';
import { createIndexMigrationRunner } from '../db/index-migrations.js';
import { isTerminalStatus, MIGRATION_FLAG } from '../domain.js';
import { createLogger } from '../logger.js';
import { createApiClient } from './api-client.js';
import { type CliIo, EXIT, loadConfigOrReport, writeLine } from './cli-io.js';
import { parseCid, parsePositiveInt } from './cli-values.js';
import { buildDemoReport } from './demo-report.js';
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
          const started = Date.now();
          const triggered = await client.post<{ run_id: string; job_id: string }>('/private/notes/migrate', {
            cid: cid.value,
            company_sso_id: opts.company,
          });
          writeLine(
            io.stdout,
            `Triggered run ${triggered.run_id} (job ${triggered.job_id}) over HTTP; following its status stream:`,
          );
          const view = createProgressView(io.stdout, `CID ${cid.value}`);
          await client.events(`/private/notes/migration/status/stream?cid=${cid.value}`, (event) => {
            if (event.event === 'end') return true;
            if (event.event !== 'status') return false;
            const update = JSON.parse(event.data) as StatusUpdate;
            view.update(update);
            return isTerminalStatus(update.status);
          });
          view.stop();

          const run = await app.repos.runs.get(triggered.run_id);
          if (!run) throw new Error(`run ${triggered.run_id} disappeared`);
          const report = buildDemoReport({
            run,
            plan: stack.plan,
            problemsByReason: await app.repos.failures.countByReason(run._id),
            elapsedMs: Date.now() - started,
            statusUrl: `${server.url}/private/notes/migration/status?cid=${cid.value}`,
            cid: cid.value,
          });
          for (const line of report.lines) writeLine(io.stdout, line);
          const completed = run.status === 'completed_success' || run.status === 'completed_with_errors';
          if (!completed) io.setExitCode(EXIT.unexpected);
          else if (opts.expectPlan && !report.matchesPlan) io.setExitCode(EXIT_PLAN_MISMATCH);
        } finally {
          await app.stop();
        }
      } finally {
        await stack.stop();
      }
    });
}
