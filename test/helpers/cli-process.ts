/**
 * Long-running `notes-migrator` commands (worker, serve, api, fake-crm) as real child processes of
 * the built binary, for tests that kill, pause and resume them. Output is kept for assertions.
 */
import { type ChildProcess, spawn } from 'node:child_process';

import { trackResource } from './leak-check.js';
import { CLI_PATH } from './run-cli.js';

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the first match of `pattern` in the output (stdout and stderr). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnWorker(env: Record<string, string | undefined>): WorkerProcess {
  return spawnCliProcess(['worker'], env);
}

export function spawnCliProcess(
  args: string[],
  env: Record<string, string | undefined>,
  /** `file` for a process a whole test file shares (started in beforeAll). */
  scope: 'test' | 'file' = 'test',
): WorkerProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('worker process did not start');
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-20_000)));
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  const stop = async (graceMs = 15_000) => {
    if (!running) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  trackResource(
    `notes-migrator ${args.join(' ')} (pid ${child.pid})`,
    () => running,
    () => stop(2_000),
    scope,
  );
  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out);
        if (m) {
          cleanup();
          resolve(m);
        } else if (!running) {
          cleanup();
          reject(new Error(`process exited before printing ${String(pattern)}; output: ${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${String(pattern)} within ${timeoutMs}ms; output: ${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        child.off('exit', check);
      };
      child.stdout?.on('data', check);
      child.stderr?.on('data', check);
      child.on('exit', check);
      check();
    });
  return {
    child,
    pid: child.pid,
    output: () => out,
    waitForOutput,
    exited,
    signal: (s) => child.kill(s),
    stop,
  };
}
