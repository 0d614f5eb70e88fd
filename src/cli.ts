#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=256
/**
 * The one binary: `notes-migrator <command>`. The only module that reads `process.env` and
 * decides the process exit code.
 */
import { CommanderError } from 'commander';

import { EXIT } from './cli/cli-io.js';
import { createProgram } from './cli/program.js';
import { AppError, toError } from './errors.js';

async function main(): Promise<void> {
  // @aws-sdk 3.1175 is pinned because it still supports Node 20; its notice that later versions
  // will not is noise on every command. Set the variable to "false" to see it again.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const program = createProgram({
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    setExitCode: (code) => {
      process.exitCode = code;
    },
  });
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.rejected;
      return;
    }
    const err = toError(e);
    process.stderr.write(`${err instanceof AppError ? `${err.code}: ` : ''}${err.message}\n`);
    process.exitCode =
      err instanceof AppError && err.code === 'CONFIG_INVALID' ? EXIT.config : EXIT.unexpected;
  }
}

// Exit as soon as the command is done: Agenda's job watchdog sleeps in a plain setTimeout of
// half the lock lifetime (60 s by default) after a job ends, which would otherwise hold a
// stopped worker open that long. stdout and stderr are synchronous on Linux pipes and files.
void main().finally(() => process.exit(process.exitCode ?? 0));
