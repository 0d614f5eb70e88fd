import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ESLint } from 'eslint';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

import { importBoundaryOptions, typeScriptAwareResolver } from '../../../eslint/import-boundaries.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = path.join(root, 'test/fixtures/import-boundaries');

/** The project's zones, pointed at the fixture tree, and nothing else. */
function boundaryLinter(): ESLint {
  return new ESLint({
    cwd: fixture,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { 'import-x': importX },
        settings: { 'import-x/resolver-next': [typeScriptAwareResolver] },
        rules: { 'import-x/no-restricted-paths': ['error', importBoundaryOptions(fixture)] },
      },
    ],
  });
}

/** A full ESLint run (parser, plugins, type-free rules) takes seconds on a loaded 2-core machine. */
const ESLINT_TIMEOUT_MS = 30_000;

describe('import boundaries (lint)', { timeout: ESLINT_TIMEOUT_MS }, () => {
  it('reports a wrong-way import (adapter → migration, migration → http) and nothing else', async () => {
    const results = await boundaryLinter().lintFiles(['src/**/*.ts']);
    const reported = results
      .filter((r) => r.messages.length > 0)
      .map((r) => [path.relative(fixture, r.filePath), r.messages.map((m) => m.ruleId)]);
    expect(reported.sort()).toEqual([
      ['src/db/wrong-way.ts', ['import-x/no-restricted-paths']],
      ['src/migration/calls-http.ts', ['import-x/no-restricted-paths']],
    ]);
    const message = results.find((r) => r.filePath.endsWith('wrong-way.ts'))?.messages[0]?.message;
    expect(message).toContain('db/ is an adapter');
  });

  it('is switched on for src/ in the project’s own ESLint config', async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile(
      path.join(root, 'src/db/runs-repository.ts'),
    )) as { rules: Record<string, unknown[]> };
    expect(config.rules['import-x/no-restricted-paths']).toEqual([2, importBoundaryOptions(root)]);
  });
});
