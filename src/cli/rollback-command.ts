/**
 * `notes-migrator rollback --run ID [--dry-run]`: undoes one finished migrate or repair run on a
 * running service (`POST /private/notes/migration/runs/:run_id/rollback`, DESIGN.md §11.6), or
 * prints what it would do. Exit 0 on success, 2 when refused (unknown run, not rollbackable,
 * already rolled back, CID busy), 1 when the service is unreachable.
 */
import type { Command } from 'commander';

import { type CliIo, EXIT, writeLine } from './cli-io.js';
import { parseRunId } from './cli-values.js';
import { guarded } from './operator-commands.js';
import { addServiceOptions, clientFor, type ServiceFlags } from './service-options.js';

export function registerRollbackCommand(program: Command, io: CliIo): void {
  addServiceOptions(
    program
      .command('rollback')
      .description(
        'Undo one finished migrate or repair run: delete its untouched notes and their S3 objects, keep edited ones (--dry-run: show the counts only)',
      )
      .requiredOption(
        '--run <runId>',
        'the run to roll back (see `status` or GET /private/notes/migration/runs)',
      )
      .option('--dry-run', 'print what the rollback would delete and keep; change nothing'),
  ).action((opts: ServiceFlags & { run: string; dryRun?: boolean }) =>
    guarded(io, async () => {
      const runId = parseRunId(opts.run);
      if (!runId.ok) {
        writeLine(io.stderr, runId.message);
        io.setExitCode(EXIT.rejected);
        return;
      }
      const result = await clientFor(io, opts).post(
        `/private/notes/migration/runs/${encodeURIComponent(runId.value)}/rollback`,
        { dry_run: opts.dryRun === true },
      );
      writeLine(io.stdout, JSON.stringify(result, null, 2));
    }),
  );
}
