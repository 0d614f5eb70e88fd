/**
 * Fixture tests of the project's security rules (eslint/security-rules.js, issue #18): for each
 * rule, code it must let through and code it must report, run by ESLint's own RuleTester.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';

import localSecurity from '../../../eslint/security-rules.js';

RuleTester.describe = describe;
// The first typed case starts a TypeScript project service (seconds on a busy machine).
RuleTester.it = (text: string, method: () => void) => it(text, method, 60_000);
RuleTester.itOnly = it.only;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const rules = localSecurity.rules;
const ts = new RuleTester({ languageOptions: { parser: tseslint.parser, sourceType: 'module' } });
const browser = new RuleTester({ languageOptions: { sourceType: 'module', ecmaVersion: 'latest' } });

describe('local-security/no-path-auth', () => {
  ts.run('no-path-auth', rules['no-path-auth']!, {
    valid: [
      'router.get("/private/x", handler);',
      'const problem = tryFindPathProblem(ctx.path);',
      'logger.debug({ path: ctx.path }, "request rejected");',
      'if (path.startsWith("/a")) {}', // a plain string, not a request's path
      'if (url.pathname === "/x") {}', // a URL object the code built itself
      'if (ctx.status === 404) {}',
    ],
    invalid: [
      "if (ctx.path.startsWith('/private/')) await basicAuth(ctx, next);",
      "const isV1 = ctx.request.path.includes('/v1/');",
      "if (ctx.url.indexOf('/private') === 0) {}",
      'if (ctx.originalUrl.match(/^\\/private/)) {}',
      'if (/^\\/private/i.test(ctx.path)) {}',
      "if (ctx.path.toLowerCase().startsWith('/private')) {}",
      "if (req.url.startsWith('/admin')) {}",
      "if (ctx.req.url?.endsWith('.json')) {}",
      "switch (ctx.path) { case '/private': break; }",
    ]
      .map((code) => ({ code, errors: [{ messageId: 'rawPath' }] }))
      .concat(
        // The old prefix checks of create-http-app.ts and dashboard.ts (#11): two decisions each.
        [
          "if (ctx.path === '/private' || ctx.path.startsWith('/private/')) {}",
          'if (ctx.path !== DASHBOARD_PATH && !ctx.path.startsWith(`${DASHBOARD_PATH}/`)) {}',
        ].map((code) => ({ code, errors: [{ messageId: 'rawPath' }, { messageId: 'rawPath' }] })),
      ),
  });
});

describe('local-security/strict-router', () => {
  ts.run('strict-router', rules['strict-router']!, {
    valid: [
      "import { Router } from '@koa/router'; const r = new Router({ sensitive: true, strict: true });",
      "import Router from '@koa/router'; const r = new Router({ strict: true, prefix: '/x', sensitive: true });",
      "import { createRouter } from '@koa/router'; const r = createRouter({ sensitive: true, strict: true });",
      "import { Router } from 'express'; const r = new Router();", // not @koa/router
      "import type { Router } from '@koa/router'; function f(r: Router) { return r; }",
    ],
    invalid: [
      "import { Router } from '@koa/router'; const r = new Router();",
      "import { Router } from '@koa/router'; const r = new Router({ prefix: '/private' });",
      "import { Router } from '@koa/router'; const r = new Router({ sensitive: true });",
      "import { Router } from '@koa/router'; const r = new Router({ sensitive: true, strict: false });",
      "import KoaRouter from '@koa/router'; const r = new KoaRouter({ strict: true });",
      "import { Router as R } from '@koa/router'; const r = new R(options);",
      "import * as koaRouter from '@koa/router'; const r = new koaRouter.Router();",
      "import { createRouter } from '@koa/router'; const r = createRouter({ ...defaults });",
    ].map((code) => ({ code, errors: [{ messageId: 'loose' }] as { messageId: string }[] })),
  });
});

const allow = [
  { file: 'src/attachments/downloader.ts', requireDispatcher: true },
  { file: 'src/crm/crm-http-attempt.ts' },
];
const at = (file: string) => path.join(root, file);

describe('local-security/no-raw-outbound-request', () => {
  ts.run('no-raw-outbound-request', rules['no-raw-outbound-request']!, {
    valid: [
      {
        code: "import { request } from 'undici'; await request(url, { method: 'GET', dispatcher });",
        filename: at('src/attachments/downloader.ts'),
        options: [{ allow }],
      },
      {
        code: "import { request } from 'undici'; await request(url, { ...(d ? { dispatcher: d } : {}) });",
        filename: at('src/crm/crm-http-attempt.ts'),
        options: [{ allow }],
      },
      {
        code: "import { errors, type Dispatcher } from 'undici'; import { createServer } from 'node:http'; import { isIP } from 'node:net';",
        filename: at('src/http/start-http-server.ts'),
        options: [{ allow }],
      },
      {
        code: "import type { request } from 'undici'; import { request as fetchLike } from './local.js'; fetchLike(u);",
        filename: at('src/x.ts'),
        options: [{ allow }],
      },
      {
        code: 'function fetch(u: string) { return u; } fetch("x");', // a local function, not the global
        filename: at('src/x.ts'),
        options: [{ allow }],
      },
    ],
    invalid: [
      ["import { request } from 'undici';", 'outbound'],
      ["import { fetch as f } from 'undici';", 'outbound'],
      ["import { Agent } from 'undici';", 'outbound'],
      ["import * as undici from 'undici';", 'outbound'],
      ["import { get } from 'node:https';", 'outbound'],
      ["import http from 'node:http';", 'outbound'],
      ["import { connect } from 'node:net';", 'outbound'],
      ["import axios from 'axios';", 'outbound'],
      ["await fetch('https://evil.example/x');", 'global'],
      ["const ws = new WebSocket('wss://evil.example');", 'global'],
    ].map(([code, messageId]) => ({
      code: code!,
      filename: at('src/migration/sneaky.ts'),
      options: [{ allow }],
      errors: [{ messageId: messageId! }],
    })),
  });

  ts.run('no-raw-outbound-request (pinned dispatcher required)', rules['no-raw-outbound-request']!, {
    valid: [],
    invalid: [
      {
        code: "import { request } from 'undici'; await request(url, { method: 'GET' });",
        filename: at('src/attachments/downloader.ts'),
        options: [{ allow }],
        errors: [{ messageId: 'dispatcher' }],
      },
      {
        code: "import { request } from 'undici'; await request(url);",
        filename: at('src/attachments/downloader.ts'),
        options: [{ allow }],
        errors: [{ messageId: 'dispatcher' }],
      },
    ],
  });
});

describe('local-security/no-html-sink', () => {
  browser.run('no-html-sink', rules['no-html-sink']!, {
    valid: [
      "el.innerHTML = '';",
      'el.innerHTML = `<b>static</b>`;',
      'el.textContent = note.html;',
      "el.insertAdjacentHTML('beforeend', '<hr>');",
      'logger.write(line);', // not document.write
    ],
    invalid: [
      'el.innerHTML = note.html;',
      'el.innerHTML = `<p>${name}</p>`;',
      "el.innerHTML += '<p>x</p>';",
      'el.outerHTML = html;',
      "el['innerHTML'] = html;",
      "el.insertAdjacentHTML('beforeend', html);",
      'document.write(html);',
      'range.createContextualFragment(markup);',
    ].map((code) => ({ code, errors: [{ messageId: 'sink' }] as { messageId: string }[] })),
  });
});

describe('local-security/no-wide-string-key (typed)', () => {
  // A small project of its own (no @types/node), so the type checker starts quickly.
  const fixtures = path.join(root, 'test/fixtures/security-lint');
  const typed = new RuleTester({
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: path.join(fixtures, 'tsconfig.json'), tsconfigRootDir: fixtures },
    },
  });
  const file = path.join(fixtures, 'wide-key.ts');
  typed.run('no-wide-string-key', rules['no-wide-string-key']!, {
    valid: [
      "const t = { a: 1, b: 2 }; declare const k: 'a' | 'b'; t[k];",
      'const list = [1, 2]; declare const i: number; list[i];',
      'const t = { a: 1 }; declare const k: keyof typeof t; t[k] = 2;',
      'function get<K extends "x" | "y">(o: Record<K, number>, k: K) { return o[k]; }',
      'declare const o: Record<string, number>; declare const k: string; const v = Object.hasOwn(o, k) ? o[k] : 0;',
      'declare const o: Record<string, number>; declare const k: string; if (Object.hasOwn(o, k)) o[k] = 1;',
      'declare const o: Record<string, number>; declare const k: string; const ok = Object.hasOwn(o, k) && o[k] === 1;',
      'declare const o: Record<string, number>; declare const n: number; o[`${n}`];',
      "const t = { a: 1 }; t['a'];",
    ].map((code) => ({ code, filename: file })),
    invalid: [
      'declare const o: Record<string, number>; declare const k: string; o[k];',
      'declare const o: Record<string, number>; declare const k: string; o[k] = 1;',
      'declare const o: Record<string, number>; declare const k: any; o[k];',
      'declare const o: Record<string, number>; declare const k: string; const v = k in o ? o[k] : 0;', // `in` sees the prototype
      'declare const o: Record<string, number>; declare const p: Record<string, number>; declare const k: string; if (Object.hasOwn(p, k)) o[k] = 1;',
      'function get<K extends string>(o: Record<K, number>, k: K) { return o[k]; }',
    ].map((code) => ({ code, filename: file, errors: [{ messageId: 'wide' }] })),
  });
});
