/**
 * `notes-migrator normalize [--jsonl]`: lets an operator preview what the migration makes of note
 * HTML (#3). Only stdin → stdout plumbing lives here; the normalizing is `normalize-note-html.ts`.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

import type { Command } from 'commander';

import { normalizeNoteHtml, type NormalizeResult } from '../normalize/normalize-note-html.js';
import { type CliIo, EXIT } from './cli-io.js';

type NoteId = string | number;

/** One output line of `--jsonl`: the normalized note, or why it was rejected. */
export type NormalizedLine =
  | { id: NoteId; html: string }
  | { id: NoteId | null; line?: number; error: { code: string } & Record<string, unknown> };

export function registerNormalizeCommand(program: Command, io: CliIo): void {
  program
    .command('normalize')
    .description(
      'Print what the migration makes of note HTML read on stdin: the normalized HTML (exit 0), ' +
        'or the typed error as JSON on stdout (exit 2)',
    )
    .option(
      '--jsonl',
      'stream JSON lines {"id","html"} in, one JSON line {"id","html"} or {"id","error":{"code",...}} out ' +
        'per input line; exit 2 when any line was rejected',
    )
    .action((opts: { jsonl?: boolean }) => (opts.jsonl ? normalizeJsonLines(io) : normalizeDocument(io)));
}

/** The whole of stdin is one note; its normalized HTML is written byte for byte, no newline added. */
async function normalizeDocument(io: CliIo): Promise<void> {
  const result = normalizeNoteHtml(await readAll(io.stdin));
  if (result.ok) {
    await write(io.stdout, result.html);
    return;
  }
  await write(io.stdout, `${JSON.stringify({ error: errorOf(result) })}\n`);
  io.setExitCode(EXIT.rejected);
}

/**
 * One note per line, one result line per note, in input order. Lines are read and written one
 * at a time (readline, and waiting for `drain`), so memory stays flat for a whole export. Blank
 * lines are skipped; a line that is not a note becomes an error line, never a crash.
 */
async function normalizeJsonLines(io: CliIo): Promise<void> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  let rejected = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    const out = normalizeJsonLine(line, lineNumber);
    if ('error' in out) rejected += 1;
    await write(io.stdout, `${JSON.stringify(out)}\n`);
  }
  if (rejected > 0) io.setExitCode(EXIT.rejected);
}

export function normalizeJsonLine(line: string, lineNumber: number): NormalizedLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return invalidLine(null, lineNumber, `line ${lineNumber} is not JSON: expected {"id","html"}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return invalidLine(null, lineNumber, `line ${lineNumber}: expected a JSON object {"id","html"}`);
  }
  const { id, html } = parsed as Record<string, unknown>;
  if (typeof id !== 'string' && typeof id !== 'number') {
    return invalidLine(
      null,
      lineNumber,
      `line ${lineNumber}: "id" must be a string or a number, got ${describe(id)}`,
    );
  }
  if (typeof html !== 'string') {
    return invalidLine(id, lineNumber, `line ${lineNumber}: "html" must be a string, got ${describe(html)}`);
  }
  const result = normalizeNoteHtml(html);
  return result.ok ? { id, html: result.html } : { id, error: errorOf(result) };
}

function errorOf(
  result: Extract<NormalizeResult, { ok: false }>,
): { code: string } & Record<string, unknown> {
  return { code: result.reasonCode, ...result.details };
}

function invalidLine(id: NoteId | null, line: number, message: string): NormalizedLine {
  return { id, line, error: { code: 'VALIDATION_ERROR', message } };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  return value === null ? 'null' : typeof value;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes, and waits while the reader is slower than we are. */
async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
