/**
 * The `notes-migrator` command tree. Each command lives in its own module and registers itself here.
 */
import { Command } from 'commander';

import { registerCheckUrlCommand } from './check-url-command.js';
import type { CliIo } from './cli-io.js';
import { registerDemoCommand } from './demo-command.js';
import { registerFakeCrmCommand } from './fake-crm-command.js';
import { registerFlagsCommand } from './flags-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerNormalizeCommand } from './normalize-command.js';
import { registerOperatorCommands } from './operator-commands.js';
import { registerRollbackCommand } from './rollback-command.js';
import { registerServeCommands } from './serve-commands.js';
import { registerWorkerCommand } from './worker-command.js';

export function createProgram(io: CliIo): Command {
  const program = new Command()
    .name('notes-migrator')
    .description('Migrate legacy CRM contact notes into the CDP notes collection')
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();

  registerMigrateCommand(program, io);
  registerNormalizeCommand(program, io);
  registerCheckUrlCommand(program, io);
  registerFakeCrmCommand(program, io);
  registerWorkerCommand(program, io);
  registerFlagsCommand(program, io);
  registerOperatorCommands(program, io);
  registerRollbackCommand(program, io);
  registerServeCommands(program, io);
  registerDemoCommand(program, io);
  return program;
}
