/**
 * What a CLI command may touch: the environment it was given, its streams and its exit code.
 * Only `src/cli.ts` builds one from `process`; tests build one from buffers.
 */
import type { Readable, Writable } from 'node:stream';

import { type Config, parseConfig } from '../config.js';
import { AppError } from '../errors.js';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  setExitCode(code: number): void;
}

/** Exit codes: 0 ok, 1 unexpected, 2 input rejected, 3 a check found something, 78 bad configuration. */
export const EXIT = { ok: 0, unexpected: 1, rejected: 2, checkFailed: 3, config: 78 } as const;

/** Parses the environment, or writes every problem to stderr and returns null (exit 78). */
export function loadConfigOrReport(
  io: CliIo,
  overrides: Record<string, string | undefined> = {},
): Readonly<Config> | null {
  try {
    return parseConfig({ ...io.env, ...overrides });
  } catch (e) {
    if (e instanceof AppError && e.code === 'CONFIG_INVALID') {
      io.stderr.write(`${e.message}\n`);
      io.setExitCode(EXIT.config);
      return null;
    }
    throw e;
  }
}

export function writeLine(stream: Writable, line: string): void {
  stream.write(line.endsWith('\n') ? line : `${line}\n`);
}
