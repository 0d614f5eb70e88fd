/**
 * Commands that drive a running service over its HTTP API: `trigger`, `status [--watch]`,
 * `failures`. Exit 0 on success, 2 when the service refuses the request, 1 when it is unreachable.
 */
import type { Command } from 'commander';

import { isTerminalStatus, REASON_CODES, RUN_KINDS, RUN_MODES } from '../domain.js';
import { toError } from '../errors.js';
import { ApiClientError } from './api-client.js';
import { type CliIo, EXIT, writeLine } from './cli-io.js';
import { parseCid } from './cli-values.js';
import { createProgressView, type StatusUpdate } from './progress-view.js';
import { addServiceOptions, clientFor, type ServiceFlags } from './service-options.js';

/** A kind as the CLI spells it: `dry_run` → `dry-run` (both are accepted). */
function cliKindName(kind: string): string {
  return kind.replaceAll('_', '-');
}

async function guarded(io: CliIo, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const err = toError(e);
    writeLine(io.stderr, err.message);
    io.setExitCode(
      err instanceof ApiClientError && err.status !== null && err.status < 500
        ? EXIT.rejected
        : EXIT.unexpected,
    );
  }
}

function cidOrExit(io: CliIo, raw: string): string | null {
  const cid = parseCid(raw);
  if (cid.ok) return cid.value;
  writeLine(io.stderr, cid.message);
  io.setExitCode(EXIT.rejected);
  return null;
}

export function registerOperatorCommands(program: Command, io: CliIo): void {
  addServiceOptions(
    program
      .command('trigger')
      .description('Start the migration of a CID on a running service (POST /private/notes/migrate)')
      .requiredOption('--cid <cid>', 'the CRM organisation id')
      .requiredOption('--company <companySsoId>', 'the CDP company_sso_id')
      .option('--mode <mode>', `restart (from page 1) or resume (from the last checkpoint)`, 'restart')
      .option('--kind <kind>', `what the run does: ${RUN_KINDS.map(cliKindName).join(', ')}`, 'migrate'),
  ).action((opts: ServiceFlags & { cid: string; company: string; mode: string; kind: string }) =>
    guarded(io, async () => {
      const cid = cidOrExit(io, opts.cid);
      if (!cid) return;
      const kind = RUN_KINDS.find((k) => k === opts.kind || cliKindName(k) === opts.kind);
      const problems = [
        ...((RUN_MODES as readonly string[]).includes(opts.mode)
          ? []
          : [`--mode must be one of ${RUN_MODES.join(', ')}, got ${JSON.stringify(opts.mode)}`]),
        ...(kind
          ? []
          : [
              `--kind must be one of ${RUN_KINDS.map(cliKindName).join(', ')}, got ${JSON.stringify(opts.kind)}`,
            ]),
      ];
      if (problems.length > 0 || !kind) {
        for (const p of problems) writeLine(io.stderr, p);
        io.setExitCode(EXIT.rejected);
        return;
      }
      const result = await clientFor(io, opts).post('/private/notes/migrate', {
        cid,
        company_sso_id: opts.company,
        kind,
        mode: opts.mode,
      });
      writeLine(io.stdout, JSON.stringify(result));
    }),
  );

  addServiceOptions(
    program
      .command('status')
      .description('Show the migration status of a CID; --watch follows it live until it ends')
      .requiredOption('--cid <cid>', 'the CRM organisation id')
      .option('--watch', 'follow the status stream with a progress bar until the run ends'),
  ).action((opts: ServiceFlags & { cid: string; watch?: boolean }) =>
    guarded(io, async () => {
      const cid = cidOrExit(io, opts.cid);
      if (!cid) return;
      const client = clientFor(io, opts);
      if (!opts.watch) {
        writeLine(
          io.stdout,
          JSON.stringify(await client.get(`/private/notes/migration/status?cid=${cid}`), null, 2),
        );
        return;
      }
      const view = createProgressView(io.stdout, `CID ${cid}`);
      let last: StatusUpdate = { status: 'not_started' };
      await client.events(
        `/private/notes/migration/status/stream?cid=${cid}`,
        (event) => {
          if (event.event === 'end') return true;
          if (event.event !== 'status') return false;
          last = JSON.parse(event.data) as StatusUpdate;
          view.update(last);
          return isTerminalStatus(last.status);
        },
        // A cut stream resumes from the last state seen (Last-Event-ID), never from the start.
        { onReconnect: () => writeLine(io.stderr, 'status stream interrupted; reconnecting') },
      );
      view.stop();
      writeLine(io.stdout, JSON.stringify(last));
    }),
  );

  addServiceOptions(
    program
      .command('failures')
      .description('Export the failure log of a CID (streams every record)')
      .requiredOption('--cid <cid>', 'the CRM organisation id')
      .option('--reason <code>', 'only this reason code')
      .option('--run <runId>', 'only this run')
      .option('--format <format>', 'csv or ndjson', 'ndjson'),
  ).action((opts: ServiceFlags & { cid: string; reason?: string; run?: string; format: string }) =>
    guarded(io, async () => {
      const cid = cidOrExit(io, opts.cid);
      if (!cid) return;
      if (opts.format !== 'csv' && opts.format !== 'ndjson') {
        writeLine(io.stderr, `--format must be csv or ndjson, got ${JSON.stringify(opts.format)}`);
        io.setExitCode(EXIT.rejected);
        return;
      }
      if (opts.reason !== undefined && !(REASON_CODES as readonly string[]).includes(opts.reason)) {
        writeLine(
          io.stderr,
          `--reason must be one of ${REASON_CODES.join(', ')}, got ${JSON.stringify(opts.reason)}`,
        );
        io.setExitCode(EXIT.rejected);
        return;
      }
      const query = new URLSearchParams({ cid, format: opts.format });
      if (opts.reason) query.set('reason_code', opts.reason);
      if (opts.run) query.set('run_id', opts.run);
      await clientFor(io, opts).download(`/private/notes/migration/failures?${query.toString()}`, (chunk) => {
        if (!io.stdout.write(chunk))
          return new Promise<void>((resolve) => io.stdout.once('drain', () => resolve()));
      });
    }),
  );
}
