/**
 * `notes-migrator api` (the HTTP API only), `notes-migrator serve` (API + worker in one process).
 * Both stop gracefully on SIGTERM/SIGINT. `serve` without MONGODB_URI brings the embedded
 * defaults (MongoDB, S3, fake CRM with a demo tenant) for local use.
 */
import type { Command } from 'commander';

import { INDEX_MIGRATIONS } from '../../migrations/index.js';
import { resolveFakeTenant } from '../crm/fake/fake-tenant-options.js';
import { createIndexMigrationRunner } from '../db/index-migrations.js';
import { MIGRATION_FLAG } from '../domain.js';
import type { EmbeddedStack } from '../embedded/embedded-stack.js';
import { createLogger } from '../logger.js';
import { type CliIo, loadConfigOrReport, writeLine } from './cli-io.js';
import { untilShutdown } from './process-signals.js';
import { startRuntime } from './runtime.js';

/** The tenant `serve` offers on embedded defaults. */
const EMBEDDED_TENANT = {
  cid: '1001',
  companySsoId: 'demo-company',
  noteCount: 5_000,
  seed: 1,
  preset: 'realistic' as const,
};

export function registerServeCommands(program: Command, io: CliIo): void {
  program
    .command('api')
    .description(
      'Serve the HTTP API (needs MONGODB_URI and CRM_API_ROOT_URL); jobs are processed by `worker`',
    )
    .action(async () => {
      const runtime = await startRuntime(io, 'api');
      if (!runtime) return;
      await runtime.app.startApi();
      await untilShutdown({ logger: runtime.logger, stop: () => runtime.app.stop() });
    });

  program
    .command('serve')
    .description(
      'Serve the HTTP API and process jobs in one process; without MONGODB_URI on embedded defaults',
    )
    .action(async () => {
      const base = loadConfigOrReport(io);
      if (!base) return;
      let stack: EmbeddedStack | undefined;
      if (!base.mongo.uri) {
        // Loaded only for embedded defaults: the fake CRM and embedded servers are heavy.
        const { startEmbeddedStack } = await import('../embedded/embedded-stack.js');
        stack = await startEmbeddedStack({
          logger: createLogger({ level: base.logLevel, name: 'crm-notes-migrator:embedded' }),
          mongodBinary: io.env.MONGOMS_SYSTEM_BINARY,
          tenant: EMBEDDED_TENANT,
        });
      }
      const runtime = await startRuntime(io, 'serve', stack?.env ?? {});
      if (!runtime) {
        await stack?.stop();
        return;
      }
      const { app } = runtime;
      if (stack) {
        const embedded = stack;
        app.defer('embedded stack', () => embedded.stop());
        await createIndexMigrationRunner(app.db, INDEX_MIGRATIONS).up();
        const { seedCdp } = await import('../crm/fake/cdp-seed.js');
        await seedCdp(app.db, resolveFakeTenant(EMBEDDED_TENANT));
        await app.repos.featureFlags.setFlag(EMBEDDED_TENANT.cid, MIGRATION_FLAG, true, app.now());
      }
      await app.startWorker();
      const server = await app.startApi();
      if (stack) {
        writeLine(
          io.stdout,
          `Embedded defaults: CID ${EMBEDDED_TENANT.cid} (${EMBEDDED_TENANT.noteCount} notes) is ready. Trigger it with\n` +
            `  notes-migrator trigger --url ${server.url} --cid ${EMBEDDED_TENANT.cid} --company ${EMBEDDED_TENANT.companySsoId}`,
        );
      }
      await untilShutdown({ logger: runtime.logger, stop: () => app.stop() });
    });
}
