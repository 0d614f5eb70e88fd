/**
 * The built binary (`node dist/src/cli.js normalize`) as an operator runs it: real process, real
 * pipes, exit codes. The e2e global setup builds dist/ once before this runs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../../dist/src/cli.js', import.meta.url));

async function runBinary(
  args: string[],
  stdin: string,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [BIN, 'normalize', ...args], { cwd: ROOT, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.end(stdin);
  const [code] = (await once(child, 'close')) as [number | null];
  return { stdout, stderr, code };
}

describe('notes-migrator normalize (built binary)', () => {
  it('prints the normalized HTML and exits 0', async () => {
    const run = await runBinary(
      [],
      '<div><a href="javascript:alert(1)">x</a> <a href="https://e.example">e</a></div>',
    );
    expect(run).toEqual({
      stdout: '<div>x <a href="https://e.example" rel="nofollow">e</a></div>',
      stderr: '',
      code: 0,
    });
  });

  it('prints the typed error as JSON and exits 2 for a note over 10,000 characters', async () => {
    const run = await runBinary([], `<p>${'y'.repeat(10_000)}</p>`);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'NOTE_TOO_LONG', length: 10_007, maxLength: 10_000 },
    });
  });

  it('with --jsonl, survives malformed lines and exits 2', async () => {
    const run = await runBinary(
      ['--jsonl'],
      '{"id":1,"html":"<b>a</b>"}\n{oops\n{"id":3,"html":"<i>c</i>"}\n',
    );
    expect(run.code).toBe(2);
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { id: 1, html: '<b>a</b>' },
      { id: null, line: 2, error: { code: 'VALIDATION_ERROR', message: expect.any(String) } },
      { id: 3, html: '<i>c</i>' },
    ]);
  });

  it('with --jsonl, answers each line before the next one is sent (streams, does not buffer the input)', async () => {
    const child = spawn(process.execPath, [BIN, 'normalize', '--jsonl'], { cwd: ROOT, stdio: 'pipe' });
    const out = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const answers: unknown[] = [];
    for (const id of [1, 2, 3]) {
      child.stdin.write(`${JSON.stringify({ id, html: `<b>${id}</b><script>x</script>` })}\n`);
      const next = await out.next();
      answers.push(JSON.parse(next.value as string));
    }
    child.stdin.end();
    const [code] = (await once(child, 'close')) as [number | null];
    expect(answers).toEqual([1, 2, 3].map((id) => ({ id, html: `<b>${id}</b>` })));
    expect(code).toBe(0);
  });

  it('with --jsonl, keeps every one of 5,000 notes in order', async () => {
    const input = Array.from({ length: 5_000 }, (_, i) =>
      JSON.stringify({ id: i, html: `<p>note ${i}</p>` }),
    ).join('\n');
    const run = await runBinary(['--jsonl'], input);
    const lines = run.stdout.trimEnd().split('\n');
    expect(run.code).toBe(0);
    expect(lines).toHaveLength(5_000);
    expect(JSON.parse(lines[4_999]!)).toEqual({ id: 4_999, html: '<p>note 4999</p>' });
  });
});
