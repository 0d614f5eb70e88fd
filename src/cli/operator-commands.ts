/**
 * Commands that drive a running service over its HTTP API: `trigger`, `forecast [--watch]` (a dry
 * run), `status [--watch]`, `failures`. Exit 0 on success, 2 when the service refuses the request,
 * 1 when it is unreachable.
 */
import type { Command } from 'commander';

import { isTerminalStatus, REASON_CODES, RUN_KINDS, RUN_MODES, type RunKind } from '../domain.js';
import { toError } from '../errors.js';
import { kindsTriggeredByCid } from '../migration/run-kinds.js';
import { type ApiClient, ApiClientError } from './api-client.js';
import { type CliIo, EXIT, writeLine } from './cli-io.js';
import { parseCid } from './cli-values.js';
import { diagnosisLine, forecastLines } from './forecast-report.js';
import { createProgressView, type StatusUpdate } from './progress-view.js';
import { addServiceOptions, clientFor, type ServiceFlags } from './service-options.js';

/** A kind as the CLI spells it: `dry_run` → `dry-run` (both are accepted). */
function cliKindName(kind: string): string {
  return kind.replaceAll('_', '-');
}

/** Runs a command body: a refused request exits 2, an unreachable or failing service 1. */
export async function guarded(io: CliIo, fn: () => Promise<void>): Promise<void> {
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

function kindOf(raw: string): RunKind | undefined {
  return RUN_KINDS.find((k) => k === raw || cliKindName(k) === raw);
}

/** Follows the status stream until the run ends; prints progress, then the diagnosis or forecast. */
async function watchStatus(io: CliIo, client: ApiClient, cid: string): Promise<StatusUpdate> {
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
  return last;
}

/** What a finished run says beyond its counters: a forecast, a halt's diagnosis. */
function explainLines(cid: string, body: StatusUpdate): string[] {
  if (body.forecast) return forecastLines(cid, body.forecast);
  return body.halt_diagnosis ? [diagnosisLine(body.halt_diagnosis)] : [];
}

/** Why `trigger --kind` refuses a kind: unknown, or one that acts on a run and has its own command. */
function triggerKindProblem(raw: string, named: RunKind | undefined): string {
  if (named)
    return `--kind ${cliKindName(named)} acts on one run: use notes-migrator ${cliKindName(named)} --run <run id>`;
  return `--kind must be one of ${kindsTriggeredByCid().map(cliKindName).join(', ')}, got ${JSON.stringify(raw)}`;
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
      .option(
        '--kind <kind>',
        `what the run does: ${kindsTriggeredByCid().map(cliKindName).join(', ')} (a rollback has its own command)`,
        'migrate',
      )
      .option('--verify-attachments', 'dry-run only: also download and type-check every attachment'),
  ).action(
    (
      opts: ServiceFlags & {
        cid: string;
        company: string;
        mode: string;
        kind: string;
        verifyAttachments?: boolean;
      },
    ) =>
      guarded(io, async () => {
        const cid = cidOrExit(io, opts.cid);
        if (!cid) return;
        const named = kindOf(opts.kind);
        const kind = named && kindsTriggeredByCid().includes(named) ? named : undefined;
        const problems = [
          ...((RUN_MODES as readonly string[]).includes(opts.mode)
            ? []
            : [`--mode must be one of ${RUN_MODES.join(', ')}, got ${JSON.stringify(opts.mode)}`]),
          ...(kind ? [] : [triggerKindProblem(opts.kind, named)]),
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
          // Sent as given: the service answers 400 when the kind does not take it.
          ...(opts.verifyAttachments ? { verify_attachments: true } : {}),
        });
        writeLine(io.stdout, JSON.stringify(result));
      }),
  );

  addServiceOptions(
    program
      .command('forecast')
      .description(
        'Dry-run a CID: what a migration would do, without writing anything (a run of kind dry_run); --watch follows it and prints the forecast',
      )
      .requiredOption('--cid <cid>', 'the CRM organisation id')
      .requiredOption('--company <companySsoId>', 'the CDP company_sso_id')
      .option(
        '--verify-attachments',
        'also download every attachment and check its size and type (no upload)',
      )
      .option('--watch', 'follow the dry run to its end and print the forecast'),
  ).action(
    (opts: ServiceFlags & { cid: string; company: string; verifyAttachments?: boolean; watch?: boolean }) =>
      guarded(io, async () => {
        const cid = cidOrExit(io, opts.cid);
        if (!cid) return;
        const client = clientFor(io, opts);
        const result = await client.post<{ run_id: string }>('/private/notes/migrate', {
          cid,
          company_sso_id: opts.company,
          kind: 'dry_run',
          ...(opts.verifyAttachments ? { verify_attachments: true } : {}),
        });
        writeLine(io.stdout, JSON.stringify(result));
        if (!opts.watch) {
          writeLine(io.stderr, `follow it with: notes-migrator status --cid ${cid} --watch`);
          return;
        }
        const last = await watchStatus(io, client, cid);
        for (const line of explainLines(cid, last)) writeLine(io.stdout, line);
        writeLine(io.stdout, JSON.stringify(last));
        if (last.status !== 'completed_success') io.setExitCode(EXIT.unexpected);
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
      const last = await watchStatus(io, client, cid);
      for (const line of explainLines(cid, last)) writeLine(io.stdout, line);
      writeLine(io.stdout, JSON.stringify(last));
    }),
  );

  addServiceOptions(
    program
      .command('failures')
      .description('Export the failure log of a CID (streams every record)')
      .requiredOption('--cid <cid>', 'the CRM organisation id')
      .option('--reason <code>', 'only this reason code')
      .option('--run <runId>', 'only this run (of any kind)')
      .option(
        '--kind <kind>',
        `only runs of this kind: ${RUN_KINDS.map(cliKindName).join(', ')} (default: migrate and repair runs)`,
      )
      .option('--format <format>', 'csv or ndjson', 'ndjson'),
  ).action(
    (opts: ServiceFlags & { cid: string; reason?: string; run?: string; kind?: string; format: string }) =>
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
        const kind = opts.kind === undefined ? undefined : kindOf(opts.kind);
        if (opts.kind !== undefined && !kind) {
          writeLine(
            io.stderr,
            `--kind must be one of ${RUN_KINDS.map(cliKindName).join(', ')}, got ${JSON.stringify(opts.kind)}`,
          );
          io.setExitCode(EXIT.rejected);
          return;
        }
        const query = new URLSearchParams({ cid, format: opts.format });
        if (opts.reason) query.set('reason_code', opts.reason);
        if (opts.run) query.set('run_id', opts.run);
        if (kind) query.set('kind', kind);
        await clientFor(io, opts).download(
          `/private/notes/migration/failures?${query.toString()}`,
          (chunk) => {
            if (!io.stdout.write(chunk))
              return new Promise<void>((resolve) => io.stdout.once('drain', () => resolve()));
          },
        );
      }),
  );
}
