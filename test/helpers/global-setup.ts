/**
 * Starts (or connects to) the MongoDB-wire server for the integration and e2e projects, prints
 * what it is, measures its capabilities, and hands both to the tests through `inject()`.
 * MONGODB_URI wins; otherwise the embedded server (docs/testing.md).
 */
import { MongoClient } from 'mongodb';
import type { TestProject } from 'vitest/node';

import { type EmbeddedMongo, INSTALL_HINT, startEmbeddedMongo } from '../../src/db/embedded-mongo.js';
import { redactUri } from '../../src/db/mongo-client.js';
import { createLogger } from '../../src/logger.js';
import { type Capabilities, probeCapabilities } from './capabilities.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    mongoServer: string;
    caps: Capabilities;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedMongo | undefined;
  let uri = process.env.MONGODB_URI;
  if (!uri) {
    embedded = await startEmbeddedMongo({
      logger: createLogger({ level: 'warn', name: 'test-setup' }),
      mongodBinary: process.env.MONGOMS_SYSTEM_BINARY,
    }).catch((e: Error) => {
      throw new Error(`Integration tests need a MongoDB-wire server. ${INSTALL_HINT}\n${e.message}`, {
        cause: e,
      });
    });
    uri = embedded.uri;
  }
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } catch (e) {
    await embedded?.stop();
    throw new Error(
      `Cannot reach the MongoDB test server at ${redactUri(uri)}: ${(e as Error).message}. ${INSTALL_HINT}`,
      {
        cause: e,
      },
    );
  }
  const build = await client.db('admin').command({ buildInfo: 1 });
  const hello = await client.db('admin').command({ hello: 1 });
  const caps = await probeCapabilities(client);
  await client.close();

  const server = `${embedded?.kind ?? 'external'} (reports MongoDB ${String(build.version)}, wire ${String(hello.maxWireVersion)}${hello.setName ? `, replica set ${String(hello.setName)}` : ', standalone'})`;
  const lines = [
    `[${project.name}] MongoDB test server: ${server} at ${redactUri(uri)}`,
    ...Object.entries(caps.reasons).map(
      ([cap, reason]) =>
        `  capability ${cap}: ${caps[cap as keyof Omit<Capabilities, 'reasons'>] ? 'yes' : 'NO'} (${reason})`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');

  project.provide('mongoUri', uri);
  project.provide('mongoServer', server);
  project.provide('caps', caps);

  return async () => {
    await embedded?.stop();
  };
}
