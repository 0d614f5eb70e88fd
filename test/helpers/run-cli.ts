/**
 * Runs the built `notes-migrator` binary (`node dist/src/cli.js`) as a subprocess, the way an
 * operator does. The e2e global setup builds dist/ once before any of these tests run.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

import { trackResource } from './leak-check.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const CLI_PATH = join(ROOT, 'dist/src/cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with only the given environment (plus PATH and HOME), feeding `stdin` when given. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; stdin?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let running = true;
    trackResource(
      `cli ${args.join(' ')}`,
      () => running,
      () => void child.kill('SIGKILL'),
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`notes-migrator ${args.join(' ')} timed out; stdout: ${stdout} stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      running = false;
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
