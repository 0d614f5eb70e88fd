/**
 * The security gate's real configuration (eslint/security-config.js, issue #18) on fixtures with
 * one violation per rule: every rule the gate switches on reports on ESLint 10 — including
 * eslint-plugin-security, which declares no ESLint 10 support — and clean code passes. The
 * fixtures are written to a temporary folder, so the repository holds no deliberately bad code.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ESLint, type Linter } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import gateConfig, { servedScriptsConfig, sourceSecurityConfig } from '../../../eslint/security-config.js';

/** One violation per rule; the comment names the rule it is for (`\u…` escapes become the characters). */
const VIOLATIONS = `
import { exec } from 'node:child_process';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Router } from '@koa/router';
import { request } from 'undici';
import type { Context } from 'koa';

declare const buf: Buffer;
declare const name: string;
declare const code: string;
declare const html: string;
declare const given: string;
declare const password: string;
declare const el: { innerHTML: string; insertAdjacentHTML(p: string, h: string): void };
declare const template: { escapeMarkup: boolean };
declare const app: { use(x: unknown): void };
declare const express: { csrf(): unknown; methodOverride(): unknown };
declare const table: Record<string, number>;
declare const ctx: Context;

buf.readUInt8(0, true); // security/detect-buffer-noassert
exec(code); // security/detect-child-process
template.escapeMarkup = false; // security/detect-disable-mustache-escape
eval(code); // security/detect-eval-with-expression
new Buffer(name); // security/detect-new-buffer
app.use(express.csrf()); // security/detect-no-csrf-before-method-override
app.use(express.methodOverride());
readFileSync(name); // security/detect-non-literal-fs-filename
new RegExp(name); // security/detect-non-literal-regexp
require(name); // security/detect-non-literal-require
if (password === given) exec('true'); // security/detect-possible-timing-attacks
crypto.pseudoRandomBytes(8); // security/detect-pseudoRandomBytes
/(a+)+$/.test(code); // security/detect-unsafe-regex
const bidi = 'admin\u202e'; // security/detect-bidi-characters
const invisible = 'to\u3164ken'; // security/detect-invisible-characters (Hangul filler)
el.innerHTML = html; // no-unsanitized/property, local-security/no-html-sink
el.insertAdjacentHTML('beforeend', html); // no-unsanitized/method
if (ctx.path.startsWith('/private/')) exec('true'); // local-security/no-path-auth
new Router(); // local-security/strict-router
void request; // local-security/no-raw-outbound-request (the import above)
table[name] = 1; // local-security/no-wide-string-key
export { bidi, invisible };
`;

const CLEAN = `
import { Router } from '@koa/router';
declare const table: Record<string, number>;
declare const key: string;
export const router = new Router({ sensitive: true, strict: true });
export const value = Object.hasOwn(table, key) ? table[key] : undefined;
export function render(el: { textContent: string }, text: string) {
  el.textContent = text;
}
`;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cnm-security-gate-'));
  mkdirSync(path.join(dir, 'src'));
  mkdirSync(path.join(dir, 'public'));
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', types: [] }, include: ['src'] }),
  );
  writeFileSync(path.join(dir, 'src/violations.ts'), VIOLATIONS);
  writeFileSync(path.join(dir, 'src/clean.ts'), CLEAN);
  writeFileSync(
    path.join(dir, 'public/app.js'),
    'const el = document.body;\nel.innerHTML = location.hash;\n',
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rules a config block switches on (anything but "off"). */
function enabledRules(config: Linter.Config): string[] {
  return Object.entries(config.rules ?? {})
    .filter(([, setting]) => (Array.isArray(setting) ? setting[0] : setting) !== 'off')
    .map(([id]) => id)
    .sort();
}

async function lint(config: Linter.Config[], file: string) {
  const eslint = new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: config });
  const [result] = await eslint.lintFiles([file]);
  return result!.messages;
}

/** A full ESLint run (parser, plugins, type-free rules) takes seconds on a loaded 2-core machine. */
const ESLINT_TIMEOUT_MS = 30_000;

describe('security gate configuration (issue #18)', { timeout: ESLINT_TIMEOUT_MS }, () => {
  it('reports every rule it switches on, on a fixture with one violation each', async () => {
    const messages = await lint(gateConfig, 'src/violations.ts');
    expect(messages.filter((m) => m.fatal)).toEqual([]);
    const reported = [...new Set(messages.map((m) => m.ruleId))].sort();
    const expected = enabledRules(sourceSecurityConfig);
    expect(expected.length).toBeGreaterThanOrEqual(20);
    expect(reported).toEqual(expected);
    expect(messages.every((m) => m.severity === 2)).toBe(true);
  });

  it('leaves clean code alone', async () => {
    expect(await lint(gateConfig, 'src/clean.ts')).toEqual([]);
  });

  it('reports innerHTML with data in a served browser script', async () => {
    const messages = await lint(servedScriptsConfig, 'public/app.js');
    expect(messages.map((m) => m.ruleId).sort()).toEqual([
      'local-security/no-html-sink',
      'no-unsanitized/property',
    ]);
  });

  it('keeps detect-object-injection off on purpose (replaced by the typed no-wide-string-key)', () => {
    expect(sourceSecurityConfig.rules?.['security/detect-object-injection']).toBe('off');
    expect(enabledRules(sourceSecurityConfig)).toContain('local-security/no-wide-string-key');
  });
});
