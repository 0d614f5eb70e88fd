/**
 * `notes-migrator wave start | status [--watch] | list | pause | resume | cancel` (#16): rollout
 * waves on a running service over its HTTP API. Exit 0 on success, 2 when the file or the
 * request is refused, 1 when the service is unreachable (or a watched wave did not complete).
 */
import { readFile, stat } from 'node:fs/promises';

import type { Command } from 'commander';

import { WAVE_RUN_KINDS } from '../domain.js';
import { toError } from '../errors.js';
import { WAVE_ID_PATTERN } from '../http/wave-routes.js';
import { ApiClientError } from './api-client.js';
import { type CliIo, EXIT, writeLine } from './cli-io.js';
import { parsePositiveInt } from './cli-values.js';
import { MAX_MEMBERS_FILE_BYTES, type MembersFileResult, parseMembersFile } from './members-file.js';
import { addServiceOptions, clientFor, type ServiceFlags } from './service-options.js';
import { formatWaveLine, waveExitCode, type WaveUpdate } from './wave-view-line.js';

async function guarded(io: CliIo, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const err = toError(e);
    writeLine(io.stderr, err.message);
    const rejected = err instanceof ApiClientError && err.status !== null && err.status < 500;
    io.setExitCode(rejected ? EXIT.rejected : EXIT.unexpected);
  }
}

function rejectWith(io: CliIo, problems: string[]): void {
  for (const p of problems) writeLine(io.stderr, p);
  io.setExitCode(EXIT.rejected);
}

function waveIdOrExit(io: CliIo, raw: string): string | null {
  if (WAVE_ID_PATTERN.test(raw)) return raw;
  rejectWith(io, [
    `the wave id must be a UUID as printed by \`wave start\`, got ${JSON.stringify(raw.slice(0, 80))}`,
  ]);
  return null;
}

/** The kinds as the CLI spells them (`dry_run` → `dry-run`; both are accepted). */
const WAVE_KINDS_SPELLED = WAVE_RUN_KINDS.map((k) => k.replaceAll('_', '-')).join(', ');

interface StartFlags extends ServiceFlags {
  file: string;
  canary: string;
  parallel: string;
  stopAfter: string;
  kind: string;
}

async function readMembers(file: string): Promise<MembersFileResult> {
  let size: number;
  try {
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- the file the operator named with --file, read by the operator's own CLI (as `cat` would); never a path from a request or from CRM data
    const info = await stat(file);
    if (!info.isFile()) return { ok: false, problems: [`${file} is not a file`] };
    size = info.size;
  } catch (e) {
    return { ok: false, problems: [`cannot read ${file}: ${toError(e).message}`] };
  }
  if (size > MAX_MEMBERS_FILE_BYTES) {
    return {
      ok: false,
      problems: [`${file} is ${size} bytes; a members file may have at most ${MAX_MEMBERS_FILE_BYTES}`],
    };
  }
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- the same --file the operator named, checked to be a regular file of bounded size just above
  return parseMembersFile(await readFile(file), file);
}

function startOptions(opts: StartFlags): { problems: string[]; body?: Record<string, unknown> } {
  const canary =
    opts.canary.trim() === '0' ? { ok: true as const, value: 0 } : parsePositiveInt(opts.canary, '--canary');
  const parallel = parsePositiveInt(opts.parallel, '--parallel');
  const stopAfter = parsePositiveInt(opts.stopAfter, '--stop-after');
  const kind = WAVE_RUN_KINDS.find((k) => k === opts.kind || k.replaceAll('_', '-') === opts.kind);
  const problems = [canary, parallel, stopAfter].flatMap((p) => (p.ok ? [] : [p.message]));
  if (!kind) {
    problems.push(`--kind must be one of ${WAVE_KINDS_SPELLED}, got ${JSON.stringify(opts.kind)}`);
  }
  if (problems.length > 0 || !canary.ok || !parallel.ok || !stopAfter.ok) return { problems };
  return {
    problems,
    body: {
      canary: canary.value,
      max_parallel_tenants: parallel.value,
      stop_after_failed_tenants: stopAfter.value,
      kind,
    },
  };
}

export function registerWaveCommand(program: Command, io: CliIo): void {
  const wave = program
    .command('wave')
    .description('Roll many tenants out in a wave: canaries first, a stop rule, one shared CRM budget');

  addServiceOptions(
    wave
      .command('start')
      .description(
        'Start a wave from a members CSV file (header cid,company_sso_id) (POST /private/notes/waves)',
      )
      .requiredOption(
        '--file <path>',
        'the members file: CSV with a cid,company_sso_id header, one tenant per line',
      )
      .option('--canary <n>', 'members that run first and must succeed before the rest start (0 = none)', '1')
      .option('--parallel <n>', 'tenants running at once (max_parallel_tenants)', '4')
      .option('--stop-after <k>', 'this many halted or failed members pause the wave', '1')
      .option('--kind <kind>', `what each run does: ${WAVE_KINDS_SPELLED}`, 'migrate'),
  ).action((opts: StartFlags) =>
    guarded(io, async () => {
      const options = startOptions(opts);
      const members = await readMembers(opts.file);
      const problems = [...options.problems, ...(members.ok ? [] : members.problems)];
      if (problems.length > 0 || !members.ok || !options.body) return rejectWith(io, problems);
      const result = await clientFor(io, opts).post('/private/notes/waves', {
        members: members.members,
        ...options.body,
      });
      writeLine(io.stdout, JSON.stringify(result));
    }),
  );

  addServiceOptions(
    wave
      .command('status')
      .description('Show a wave; --watch follows it live until it completes or is cancelled')
      .argument('<waveId>', 'the wave id printed by `wave start`')
      .option('--watch', 'follow the wave stream, one line per change'),
  ).action((waveId: string, opts: ServiceFlags & { watch?: boolean }) =>
    guarded(io, async () => {
      const id = waveIdOrExit(io, waveId);
      if (!id) return;
      const client = clientFor(io, opts);
      if (!opts.watch) {
        writeLine(io.stdout, JSON.stringify(await client.get(`/private/notes/waves/${id}`), null, 2));
        return;
      }
      let last: WaveUpdate | null = null;
      let lastLine = '';
      await client.events(`/private/notes/waves/${id}/stream`, (event) => {
        if (event.event === 'end') return true;
        if (event.event !== 'wave') return false;
        last = JSON.parse(event.data) as WaveUpdate;
        const line = formatWaveLine(last);
        if (line !== lastLine) writeLine(io.stdout, line);
        lastLine = line;
        return false;
      });
      if (!last) return;
      const final: WaveUpdate = last;
      writeLine(
        io.stdout,
        JSON.stringify({
          wave_id: final.wave_id,
          state: final.state,
          counts: final.counts,
          notes: final.notes,
        }),
      );
      io.setExitCode(waveExitCode(final));
    }),
  );

  addServiceOptions(wave.command('list').description('Waves, newest first')).action((opts: ServiceFlags) =>
    guarded(io, async () => {
      writeLine(io.stdout, JSON.stringify(await clientFor(io, opts).get('/private/notes/waves'), null, 2));
    }),
  );

  for (const [name, what] of [
    ['pause', 'Pause a running wave: no member starts; running ones go on'],
    ['resume', 'Resume a paused wave: halted and failed members run again, then the rest'],
    ['cancel', 'Cancel a wave: no member starts, running ones stop after their page'],
  ] as const) {
    addServiceOptions(wave.command(name).description(what).argument('<waveId>', 'the wave id')).action(
      (waveId: string, opts: ServiceFlags) =>
        guarded(io, async () => {
          const id = waveIdOrExit(io, waveId);
          if (!id) return;
          const view = await clientFor(io, opts).post<WaveUpdate>(`/private/notes/waves/${id}/${name}`, {});
          writeLine(io.stdout, formatWaveLine(view));
        }),
    );
  }
}
