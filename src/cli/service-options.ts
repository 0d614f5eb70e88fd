/**
 * Options every command that talks to a running service shares: its URL and Basic credentials
 * (flags win over env: NOTES_MIGRATOR_URL, API_USERNAME, API_PASSWORD).
 */
import type { Command } from 'commander';

import { DEV_API_PASSWORD, DEV_API_USERNAME } from '../config.js';
import { type ApiClient, createApiClient } from './api-client.js';
import type { CliIo } from './cli-io.js';

export interface ServiceFlags {
  url?: string;
  user?: string;
  password?: string;
}

export function addServiceOptions(command: Command): Command {
  return command
    .option('--url <url>', 'service base URL (env NOTES_MIGRATOR_URL, default http://127.0.0.1:8080)')
    .option('--user <name>', 'HTTP Basic user (env API_USERNAME)')
    .option('--password <password>', 'HTTP Basic password (env API_PASSWORD)');
}

export function clientFor(io: CliIo, flags: ServiceFlags): ApiClient {
  return createApiClient({
    baseUrl:
      flags.url ??
      io.env.NOTES_MIGRATOR_URL ??
      `http://${io.env.HTTP_HOST ?? '127.0.0.1'}:${io.env.HTTP_PORT ?? '8080'}`,
    username: flags.user ?? io.env.API_USERNAME ?? DEV_API_USERNAME,
    password: flags.password ?? io.env.API_PASSWORD ?? DEV_API_PASSWORD,
  });
}
