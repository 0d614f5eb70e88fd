/**
 * `notes-migrator check-url URL…`: the SSRF guard alone (no download), so operators can check
 * ATTACHMENT_HOSTS before a run. One line per URL: `allowed` or `blocked <reason>`, then the URL
 * (credentials and query values redacted) and, when blocked, why. Exit 0 when all are allowed, 3
 * when any is blocked. `--jsonl` reads `{"id","url"}` lines on stdin instead.
 */
import { createInterface } from 'node:readline';

import type { Command } from 'commander';
import pLimit from 'p-limit';

import { createAddressPolicy } from '../attachments/address-policy.js';
import {
  createStaticResolver,
  createSystemResolver,
  type HostResolver,
} from '../attachments/host-resolver.js';
import { redactUrl } from '../attachments/redact-url.js';
import { createUrlVetter, type UrlVerdict, type UrlVetter } from '../attachments/url-vetter.js';
import { type CliIo, EXIT, loadConfigOrReport, writeLine } from './cli-io.js';

interface CheckUrlOptions {
  jsonl?: boolean;
  resolve: string[];
  allowHosts?: string;
}

/** `HOST:ADDRESS` → [host, address]; the address is everything after the first colon (IPv6 has colons). */
export function parseResolveOption(value: string): [string, string] | null {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) return null;
  const host = value.slice(0, colon).trim().toLowerCase().replace(/\.$/, '');
  const address = value
    .slice(colon + 1)
    .trim()
    .replace(/^\[|\]$/g, '');
  return host && address ? [host, address] : null;
}

export function registerCheckUrlCommand(program: Command, io: CliIo): void {
  program
    .command('check-url')
    .description('Run the attachment SSRF guard on URLs (no download): prints allowed or blocked <reason>')
    .argument('[urls...]', 'URLs to check')
    .option('--jsonl', 'read {"id","url"} lines on stdin, write {"id","verdict","reason"} lines')
    .option(
      '--resolve <host:address>',
      'answer DNS for HOST with ADDRESS instead of asking DNS (repeatable; repeat a host for several addresses)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--allow-hosts <hosts>', 'comma-separated allow-list that replaces ATTACHMENT_HOSTS')
    .action(async (urls: string[], opts: CheckUrlOptions) => {
      const overrides = opts.allowHosts === undefined ? {} : { ATTACHMENT_HOSTS: opts.allowHosts };
      const config = loadConfigOrReport(io, overrides);
      if (!config) return;
      const table = new Map<string, string[]>();
      for (const value of opts.resolve) {
        const parsed = parseResolveOption(value);
        if (!parsed) {
          writeLine(
            io.stderr,
            `--resolve expects HOST:ADDRESS, e.g. files.example.com:203.0.113.7, got ${JSON.stringify(value)}`,
          );
          io.setExitCode(EXIT.rejected);
          return;
        }
        table.set(parsed[0], [...(table.get(parsed[0]) ?? []), parsed[1]]);
      }
      if (!opts.jsonl && urls.length === 0) {
        writeLine(io.stderr, 'check-url needs at least one URL, or --jsonl with lines on stdin');
        io.setExitCode(EXIT.rejected);
        return;
      }
      const resolver: HostResolver = createStaticResolver(table, createSystemResolver());
      const vetter = createUrlVetter({
        policy: config.attachments,
        addressPolicy: createAddressPolicy({ allowPrivateNetworks: config.attachments.allowPrivateNetworks }),
        resolver,
      });
      if (config.attachments.allowPrivateNetworks) {
        writeLine(
          io.stderr,
          'warning: ATTACHMENT_ALLOW_PRIVATE_NETWORKS=true (development only): private addresses pass',
        );
      }
      const anyBlocked = opts.jsonl
        ? await checkJsonLines(io, vetter, config.attachments.concurrency)
        : await checkArguments(io, vetter, urls);
      io.setExitCode(anyBlocked ? EXIT.checkFailed : EXIT.ok);
    });
}

async function checkArguments(io: CliIo, vetter: UrlVetter, urls: string[]): Promise<boolean> {
  let anyBlocked = false;
  for (const url of urls) {
    const verdict = await vetter.vet(url);
    anyBlocked ||= !verdict.ok;
    writeLine(io.stdout, formatVerdictLine(url, verdict));
  }
  return anyBlocked;
}

/** `allowed\t<url>` or `blocked <reason>\t<url>\t<detail>`: the first field is the verdict. */
export function formatVerdictLine(url: string, verdict: UrlVerdict): string {
  return verdict.ok
    ? `allowed\t${redactUrl(url)}`
    : `blocked ${verdict.reason}\t${redactUrl(url)}\t${verdict.detail}`;
}

interface JsonVerdict {
  id: unknown;
  verdict: 'allowed' | 'blocked';
  reason: string | null;
  detail?: string;
}

/**
 * One output line per input line, in input order; checks run `concurrency` at a time. A line that
 * is not `{"id","url"}` JSON is answered `blocked invalid-input` (its id when it has one).
 */
async function checkJsonLines(io: CliIo, vetter: UrlVetter, concurrency: number): Promise<boolean> {
  const limit = pLimit(concurrency);
  const pending: Promise<JsonVerdict>[] = [];
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    pending.push(limit(() => checkJsonLine(vetter, line)));
  }
  let anyBlocked = false;
  for (const result of pending) {
    const verdict = await result;
    anyBlocked ||= verdict.verdict === 'blocked';
    writeLine(io.stdout, JSON.stringify(verdict));
  }
  return anyBlocked;
}

async function checkJsonLine(vetter: UrlVetter, line: string): Promise<JsonVerdict> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { id: null, verdict: 'blocked', reason: 'invalid-input', detail: 'not a JSON line' };
  }
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const id = record.id ?? null;
  if (typeof record.url !== 'string') {
    return {
      id,
      verdict: 'blocked',
      reason: 'invalid-input',
      detail: 'expected {"id","url"} with a string url',
    };
  }
  const verdict = await vetter.vet(record.url);
  return verdict.ok
    ? { id, verdict: 'allowed', reason: null }
    : { id, verdict: 'blocked', reason: verdict.reason, detail: verdict.detail };
}
