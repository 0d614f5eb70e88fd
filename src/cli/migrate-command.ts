/**
 * `notes-migrator migrate up|down|status`: applies the index migrations of `migrations/`.
 */
import type { Command } from 'commander';

import { INDEX_MIGRATIONS } from '../../migrations/index.js';
import { createIndexMigrationRunner } from '../db/index-migrations.js';
import { connectMongo } from '../db/mongo-client.js';
import { type CliIo, EXIT, loadConfigOrReport, writeLine } from './cli-io.js';

export function registerMigrateCommand(program: Command, io: CliIo): void {
  const migrate = program
    .command('migrate')
    .description('Apply or revert the MongoDB index migrations (needs MONGODB_URI)');

  const withRunner = async (fn: (runner: ReturnType<typeof createIndexMigrationRunner>) => Promise<void>) => {
    const config = loadConfigOrReport(io);
    if (!config) return;
    if (!config.mongo.uri) {
      writeLine(
        io.stderr,
        'MONGODB_URI: expected a MongoDB connection string for `migrate`, got nothing (unset)',
      );
      io.setExitCode(EXIT.config);
      return;
    }
    const mongo = await connectMongo({ uri: config.mongo.uri, dbName: config.mongo.dbName });
    try {
      await fn(createIndexMigrationRunner(mongo.db, INDEX_MIGRATIONS));
    } finally {
      await mongo.close();
    }
  };

  migrate
    .command('up')
    .description('Apply every pending migration (a no-op when all are applied)')
    .action(() =>
      withRunner(async (runner) => {
        const applied = await runner.up();
        writeLine(
          io.stdout,
          applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: all migrations are applied',
        );
      }),
    );

  migrate
    .command('down')
    .description('Revert the newest applied migration(s); documents are never modified')
    .option('--steps <n>', 'how many migrations to revert', '1')
    .action((opts: { steps: string }) =>
      withRunner(async (runner) => {
        const steps = Number(opts.steps);
        if (!Number.isSafeInteger(steps) || steps < 1) {
          writeLine(io.stderr, `--steps must be a positive integer, got ${JSON.stringify(opts.steps)}`);
          io.setExitCode(EXIT.rejected);
          return;
        }
        const reverted = await runner.down(steps);
        writeLine(io.stdout, reverted.length ? `reverted: ${reverted.join(', ')}` : 'nothing to revert');
      }),
    );

  migrate
    .command('status')
    .description('List every migration and when it was applied')
    .action(() =>
      withRunner(async (runner) => {
        for (const row of await runner.status()) {
          writeLine(
            io.stdout,
            `${row.appliedAt ? 'applied' : 'pending'}  ${row.id}  ${row.appliedAt?.toISOString() ?? '-'}  ${row.description}`,
          );
        }
      }),
    );
}
