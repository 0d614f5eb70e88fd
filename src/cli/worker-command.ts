/**
 * `notes-migrator worker`: processes migration jobs until SIGTERM/SIGINT. Run as many as you
 * like against one MongoDB deployment; the CID lease keeps one executor per tenant.
 */
import type { Command } from 'commander';

import type { CliIo } from './cli-io.js';
import { untilShutdown } from './process-signals.js';
import { startRuntime } from './runtime.js';

export function registerWorkerCommand(program: Command, io: CliIo): void {
  program
    .command('worker')
    .description('Process migration jobs (needs MONGODB_URI, CRM_API_ROOT_URL and the S3 settings)')
    .action(async () => {
      const runtime = await startRuntime(io, 'worker');
      if (!runtime) return;
      const { app, logger } = runtime;
      const worker = await app.startWorker();
      logger.info({ owner: app.owner, notification: worker.notification.kind }, 'worker ready');
      await untilShutdown({ logger, stop: () => app.stop() });
    });
}
