/**
 * `npm run sec` itself (scripts/security-gate.mjs, issue #18) on a small project in a temporary
 * folder: it prints the justified suppressions and fails on one without a reason, one missing
 * from docs/security.md, a stale one, and a plain finding.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const GATE = path.join(root, 'scripts/security-gate.mjs');

const SERVED_ROWS = [
  '| `node_modules/agendash/public/assets/index-B75nzJBF.js` | `no-unsanitized/property` | 1 | Vue static content |',
  '| `node_modules/agendash/public/assets/index-B75nzJBF.js` | `local-security/no-html-sink` | 1 | the same |',
];
const JUSTIFIED = `import { readFileSync } from 'node:fs';
declare const p: string;
// eslint-disable-next-line security/detect-non-literal-fs-filename -- a fixed path, for the test
export const text = readFileSync(p, 'utf8');
`;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A project with these `src/` files and docs rows, run through the gate. */
function runGate(files: Record<string, string>, docRows: string[]) {
  dir = mkdtempSync(path.join(tmpdir(), 'cnm-sec-gate-'));
  mkdirSync(path.join(dir, 'docs'));
  // The served scripts the gate looks for live in node_modules, like in the project.
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // So do the console's own scripts (#17), under src/ like in the project.
  mkdirSync(path.join(dir, 'src/http/console'), { recursive: true });
  symlinkSync(path.join(root, 'src/http/console/assets'), path.join(dir, 'src/http/console/assets'), 'dir');
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, module: 'NodeNext', types: ['node'] },
      include: ['src'],
    }),
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, 'src', name), text);
  writeFileSync(
    path.join(dir, 'docs/security.md'),
    ['| file | rule | count | why |', '|---|---|---|---|', ...docRows, ...SERVED_ROWS, ''].join('\n'),
  );
  const run = spawnSync(process.execPath, [GATE], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, out: run.stdout + run.stderr };
}

describe('npm run sec (the gate script)', () => {
  it('passes and prints each justified suppression when every one has a reason and a docs row', () => {
    const { code, out } = runGate({ 'ok.ts': JUSTIFIED }, [
      '| `src/ok.ts` | `security/detect-non-literal-fs-filename` | 1 | a fixed path |',
    ]);
    expect(out).toContain(
      'justified suppressions: 3 (1 inline in src/, 2 accepted in served third-party scripts)',
    );
    expect(out).toContain('src/ok.ts:4 security/detect-non-literal-fs-filename — a fixed path, for the test');
    expect(out).toContain('findings: 0');
    expect(code).toBe(0);
  });

  it('fails on a finding, a reasonless, an unlisted and a stale suppression, and a wrong count', () => {
    const { code, out } = runGate(
      {
        'finding.ts': "import { Router } from '@koa/router';\nexport const r = new Router();\n",
        'no-reason.ts': JUSTIFIED.replace(' -- a fixed path, for the test', ''),
        'unlisted.ts': JUSTIFIED,
        'stale.ts':
          '// eslint-disable-next-line security/detect-eval-with-expression -- nothing here any more\nexport const x = 1;\n',
        'counted.ts': JUSTIFIED,
      },
      [
        '| `src/no-reason.ts` | `security/detect-non-literal-fs-filename` | 1 | – |',
        '| `src/counted.ts` | `security/detect-non-literal-fs-filename` | 2 | miscounted |',
        '| `src/gone.ts` | `security/detect-eval-with-expression` | 1 | code that was removed |',
      ],
    );
    expect(out).toMatch(/src\/finding\.ts:2:\d+ local-security\/strict-router/);
    expect(out).toMatch(
      /src\/no-reason\.ts:4 suppresses security\/detect-non-literal-fs-filename without a reason/,
    );
    expect(out).toMatch(
      /src\/unlisted\.ts:4 security\/detect-non-literal-fs-filename is not listed in docs\/security\.md/,
    );
    expect(out).toMatch(/src\/stale\.ts:1 Unused eslint-disable directive .*remove the stale suppression/);
    expect(out).toContain(
      'lists 2 suppression(s) for `src/counted.ts` `security/detect-non-literal-fs-filename`, the code has 1',
    );
    expect(out).toContain(
      'lists `src/gone.ts` `security/detect-eval-with-expression`, which suppresses nothing any more',
    );
    expect(out).toContain('findings: 6');
    expect(code).toBe(1);
  });
});
