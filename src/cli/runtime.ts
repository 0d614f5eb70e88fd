/**
 * Shared start-up of long-running commands: config, logger, the app, and unhandled errors routed
 * to the log (Agenda's connect promise has no catch: AGENDA6-NOTES.md §1).
 */
import { type App, type AppOverrides, createApp } from '../app.js';
import type { Config } from '../config.js';
import { toError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { type CliIo, loadConfigOrReport } from './cli-io.js';

export interface Runtime {
  config: Readonly<Config>;
  logger: Logger;
  app: App;
}

export async function startRuntime(
  io: CliIo,
  name: string,
  envOverrides: Record<string, string | undefined> = {},
  appOverrides: AppOverrides = {},
): Promise<Runtime | null> {
  const config = loadConfigOrReport(io, envOverrides);
  if (!config) return null;
  const logger = createLogger({ level: config.logLevel, name: `crm-notes-migrator:${name}` });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: toError(reason) }, 'unhandled rejection');
    process.exitCode = 1;
  });
  const app = await createApp(config, logger, appOverrides);
  return { config, logger, app };
}
