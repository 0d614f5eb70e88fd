/**
 * `notes-migrator flags enable|disable --cid N`: switches the per-CID migration feature flag
 * (`crm_notes_migration_enabled`) directly in MongoDB.
 */
import type { Command } from 'commander';

import { connectMongo } from '../db/mongo-client.js';
import { createRepositories } from '../db/repositories.js';
import { MIGRATION_FLAG } from '../domain.js';
import { type CliIo, EXIT, loadConfigOrReport, writeLine } from './cli-io.js';
import { parseCid } from './cli-values.js';

export function registerFlagsCommand(program: Command, io: CliIo): void {
  const flags = program
    .command('flags')
    .description(`Switch the ${MIGRATION_FLAG} flag of a CID (needs MONGODB_URI)`);
  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    flags
      .command(name)
      .description(`${name === 'enable' ? 'Allow' : 'Forbid'} migrations of a CID`)
      .requiredOption('--cid <cid>', 'the CRM organisation id')
      .action(async (opts: { cid: string }) => {
        const cid = parseCid(opts.cid);
        if (!cid.ok) {
          writeLine(io.stderr, cid.message);
          io.setExitCode(EXIT.rejected);
          return;
        }
        const config = loadConfigOrReport(io);
        if (!config) return;
        if (!config.mongo.uri) {
          writeLine(
            io.stderr,
            'MONGODB_URI: expected a MongoDB connection string for `flags`, got nothing (unset)',
          );
          io.setExitCode(EXIT.config);
          return;
        }
        const mongo = await connectMongo({ uri: config.mongo.uri, dbName: config.mongo.dbName });
        try {
          await createRepositories(mongo.db).featureFlags.setFlag(
            cid.value,
            MIGRATION_FLAG,
            enabled,
            new Date(),
          );
          writeLine(io.stdout, `${MIGRATION_FLAG} ${enabled ? 'enabled' : 'disabled'} for CID ${cid.value}`);
        } finally {
          await mongo.close();
        }
      });
  }
}
