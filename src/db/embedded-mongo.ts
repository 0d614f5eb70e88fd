/**
 * The embedded MongoDB for laptops and tests (DESIGN.md §10): used only when no MONGODB_URI is
 * given. Tries, in order: mongodb-memory-server (a real mongod, single-node replica set) when its
 * binary can be had; then SecantusDB, the MongoDB-wire server `npm run test-server:install` puts
 * in `.venv/secantus` (docs/testing.md). Never used in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { AppError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { packageRoot } from '../service-version.js';

export type EmbeddedMongoKind = 'mongodb-memory-server' | 'secantusdb';

export interface EmbeddedMongo {
  uri: string;
  kind: EmbeddedMongoKind;
  stop(): Promise<void>;
}

export interface EmbeddedMongoOptions {
  logger: Logger;
  /** A local mongod binary for mongodb-memory-server (otherwise it needs to download one). */
  mongodBinary?: string | undefined;
  /** WiredTiger directory for SecantusDB; ':memory:' (default) is thrown away on stop. */
  storagePath?: string;
  /** Skip the mongodb-memory-server attempt (its download fails slowly on offline machines). */
  skipMemoryServer?: boolean;
  /** Time allowed for the server to start listening. */
  startTimeoutMs?: number;
}

const MONGOD_DOWNLOAD_HOST = 'fastdl.mongodb.org';

export const INSTALL_HINT =
  'Set MONGODB_URI to a MongoDB replica set, or install the embedded test server with `npm run test-server:install`.';

export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const { logger } = options;
  const reasons: string[] = [];
  if (!options.skipMemoryServer) {
    const canUseMemoryServer = options.mongodBinary ?? (await canReach(MONGOD_DOWNLOAD_HOST));
    if (canUseMemoryServer) {
      try {
        return await startMemoryServer(options.mongodBinary);
      } catch (e) {
        reasons.push(`mongodb-memory-server failed: ${toError(e).message}`);
      }
    } else {
      reasons.push(
        `mongodb-memory-server skipped: no mongod binary given and ${MONGOD_DOWNLOAD_HOST} is unreachable`,
      );
    }
  }
  const python = secantusPython();
  if (python) {
    try {
      return await startSecantus(python, options.storagePath ?? ':memory:', options.startTimeoutMs ?? 30_000);
    } catch (e) {
      reasons.push(`SecantusDB failed to start: ${toError(e).message}`);
    }
  } else {
    reasons.push(
      `SecantusDB is not installed (${path.relative(process.cwd(), secantusPythonPath())} missing)`,
    );
  }
  for (const reason of reasons) logger.warn({ reason }, 'embedded mongo candidate unavailable');
  throw new AppError(
    'CONFIG_INVALID',
    `No MongoDB server available. ${INSTALL_HINT} (${reasons.join('; ')})`,
    {
      details: { reasons },
    },
  );
}

async function canReach(host: string): Promise<boolean> {
  try {
    await lookup(host);
    return true;
  } catch {
    return false;
  }
}

async function startMemoryServer(mongodBinary: string | undefined): Promise<EmbeddedMongo> {
  const { MongoMemoryReplSet } = await import('mongodb-memory-server-core');
  const replSet = await MongoMemoryReplSet.create({
    replSet: { count: 1, storageEngine: 'wiredTiger' },
    ...(mongodBinary ? { binary: { systemBinary: mongodBinary } } : {}),
  });
  return {
    uri: replSet.getUri(),
    kind: 'mongodb-memory-server',
    stop: async () => {
      await replSet.stop();
    },
  };
}

/** The directory holding this package's package.json (works from src/ and from dist/src/). */
function secantusPythonPath(): string {
  return path.join(packageRoot(), '.venv', 'secantus', 'bin', 'python');
}

function secantusPython(): string | undefined {
  const p = secantusPythonPath();
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- a fixed path below the package root (.venv/secantus/bin/python); no input reaches it
  return existsSync(p) ? p : undefined;
}

const LISTENING_LINE = /listening on ([\d.]+):(\d+)/;

function startSecantus(python: string, storagePath: string, startTimeoutMs: number): Promise<EmbeddedMongo> {
  const launcher = path.join(packageRoot(), 'scripts', 'test-server', 'secantus_launcher.py');
  const child = spawn(
    python,
    [
      launcher,
      '--watch-parent',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--storage-path',
      storagePath,
      '--log-level',
      'INFO',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise<EmbeddedMongo>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`SecantusDB did not start listening within ${startTimeoutMs}ms: ${output.slice(-500)}`),
      );
    }, startTimeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = LISTENING_LINE.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      // Keep draining so the child never blocks on a full pipe.
      child.stdout.resume();
      child.stderr.resume();
      resolve({ uri: `mongodb://${m[1]}:${m[2]}/`, kind: 'secantusdb', stop: () => stopChild(child) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `SecantusDB exited before listening (code ${code}, signal ${signal}): ${output.slice(-500)}`,
        ),
      );
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
