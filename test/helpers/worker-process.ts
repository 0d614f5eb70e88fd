/**
 * A `notes-migrator worker` as a real child process (the built binary), for the tests that kill,
 * pause and resume workers. Output is kept for failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';

import { trackResource } from './leak-check.js';
import { CLI_PATH } from './run-cli.js';

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnWorker(env: Record<string, string | undefined>): WorkerProcess {
  const child = spawn(process.execPath, [CLI_PATH, 'worker'], {
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
    `worker process ${child.pid}`,
    () => running,
    () => stop(2_000),
  );
  return {
    child,
    pid: child.pid,
    output: () => out,
    exited,
    signal: (s) => child.kill(s),
    stop,
  };
}
