/** `notes-migrator normalize`, run in-process with buffers for stdin and stdout. */
import { Readable, Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { EXIT } from '../../../src/cli/cli-io.js';
import { normalizeJsonLine } from '../../../src/cli/normalize-command.js';
import { createProgram } from '../../../src/cli/program.js';

async function runCli(
  args: string[],
  stdin: string,
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  let exitCode: number = EXIT.ok;
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString('utf8'));
        done();
      },
    });
  const program = createProgram({
    env: {},
    stdin: Readable.from([Buffer.from(stdin, 'utf8')]),
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    setExitCode: (code) => {
      exitCode = code;
    },
  });
  await program.parseAsync(['node', 'notes-migrator', 'normalize', ...args]);
  return { stdout, stderr, exitCode };
}

describe('notes-migrator normalize', () => {
  it('prints the normalized HTML of stdin byte for byte and exits 0', async () => {
    const run = await runCli([], '<p onclick="x()">Hi <a data-user-id="1">@Ann</a> <script>x()</script></p>');
    expect(run).toEqual({ stdout: '<p>Hi @Ann </p>', stderr: '', exitCode: EXIT.ok });
  });

  it('prints NOTE_TOO_LONG as JSON on stdout and exits 2', async () => {
    const run = await runCli([], 'x'.repeat(10_001));
    expect(run.exitCode).toBe(EXIT.rejected);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'NOTE_TOO_LONG', length: 10_001, maxLength: 10_000 },
    });
  });

  it('decodes stdin as UTF-8, emoji and CJK included', async () => {
    expect((await runCli([], '<b>会議 👍</b>')).stdout).toBe('<b>会議 👍</b>');
  });
});

describe('notes-migrator normalize --jsonl', () => {
  it('writes one result line per input line, in order, and exits 0 when all were normalized', async () => {
    const input = [
      JSON.stringify({ id: 'n1', html: '<b>one</b><img src=x onerror=alert(1)>' }),
      JSON.stringify({ id: 2, html: '<a href="/users/9/edit_user">@Bo</a>' }),
      '',
      JSON.stringify({ id: 'n3', html: '' }),
    ].join('\r\n');
    const run = await runCli(['--jsonl'], input);
    expect(run.exitCode).toBe(EXIT.ok);
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { id: 'n1', html: '<b>one</b>' },
      { id: 2, html: '@Bo' },
      { id: 'n3', html: '' },
    ]);
  });

  it('answers a rejected note with an error line, goes on with the rest, and exits 2', async () => {
    const input = [
      JSON.stringify({ id: 'long', html: 'x'.repeat(10_001) }),
      'not json',
      JSON.stringify({ id: 'ok', html: 'fine' }),
    ].join('\n');
    const run = await runCli(['--jsonl'], `${input}\n`);
    expect(run.exitCode).toBe(EXIT.rejected);
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { id: 'long', error: { code: 'NOTE_TOO_LONG', length: 10_001, maxLength: 10_000 } },
      {
        id: null,
        line: 2,
        error: { code: 'VALIDATION_ERROR', message: expect.stringContaining('line 2 is not JSON') },
      },
      { id: 'ok', html: 'fine' },
    ]);
  });
});

describe('normalizeJsonLine', () => {
  it.each([
    ['an array', '[1,2]', null, 'expected a JSON object'],
    ['null', 'null', null, 'expected a JSON object'],
    ['a missing id', '{"html":"x"}', null, '"id" must be a string or a number, got nothing'],
    ['an object id', '{"id":{},"html":"x"}', null, '"id" must be a string or a number, got object'],
    ['a missing html', '{"id":"a"}', 'a', '"html" must be a string, got nothing'],
    ['a numeric html', '{"id":"a","html":5}', 'a', '"html" must be a string, got number'],
    ['truncated JSON', '{"id":"a","html":"<b>', null, 'is not JSON'],
  ])('turns %s into a VALIDATION_ERROR line that names the line', (_name, line, id, message) => {
    expect(normalizeJsonLine(line, 7)).toEqual({
      id,
      line: 7,
      error: { code: 'VALIDATION_ERROR', message: expect.stringContaining(message) },
    });
  });
});
