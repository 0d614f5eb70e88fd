// The security gate of `npm run sec` (issue #18; docs/security.md), every rule an error. Its
// source rules are part of the everyday lint too (eslint.config.js); the gate adds the served
// scripts, the count of justified suppressions and the checks on them (scripts/security-gate.mjs).
import path from 'node:path';

import noUnsanitized from 'eslint-plugin-no-unsanitized';
import security from 'eslint-plugin-security';
import tseslint from 'typescript-eslint';

import localSecurity from './security-rules.js';

/** Rule-id prefixes that belong to the gate; a suppression of one must say why (`-- reason`). */
export const SECURITY_RULE_PREFIXES = ['security/', 'no-unsanitized/', 'local-security/'];

/** What the gate analyses: our code, and every browser script the service serves. */
export const SOURCE_FILES = ['src/**/*.ts'];
export const SERVED_SCRIPTS = [
  // agendash's UI bundle, served at /private/dash/assets/ (src/http/dashboard-routes.ts).
  'node_modules/agendash/public/assets/*.js',
  // The operator console's scripts, served at /private/console/assets/ (src/http/console/, #17).
  'src/http/console/assets/*.js',
];

/**
 * Findings in third-party served scripts, which cannot carry an inline comment: each was read
 * and judged safe; `code` is the text at the finding, so a changed bundle must be judged again.
 */
export const ACCEPTED_SERVED_FINDINGS = [
  {
    file: 'node_modules/agendash/public/assets/index-B75nzJBF.js',
    ruleId: 'no-unsanitized/property',
    code: 'nr.innerHTML=Wi(',
    why: "Vue 3 runtime-dom's insertStaticContent: it parses the template markup compiled into the bundle at build time (hoisted static nodes), never data; agendash's templates use no v-html.",
  },
  {
    file: 'node_modules/agendash/public/assets/index-B75nzJBF.js',
    ruleId: 'local-security/no-html-sink',
    code: 'nr.innerHTML=Wi(',
    why: 'The same Vue insertStaticContent assignment, seen by our own rule.',
  },
];

/** Outbound HTTP is allowed in these files only (no-raw-outbound-request). */
const OUTBOUND_ALLOWED = [
  // The attachment downloader: every request goes through the pinned, vetted dispatcher.
  { file: 'src/attachments/downloader.ts', requireDispatcher: true },
  // Builds that dispatcher (an undici Agent whose lookup answers only the vetted addresses).
  { file: 'src/attachments/pinned-dispatcher.ts' },
  // The CRM client: one configured base URL (CRM_API_ROOT_URL), never a URL from note data.
  { file: 'src/crm/crm-http-attempt.ts' },
];

const asErrors = (rules) => Object.fromEntries(Object.keys(rules).map((id) => [id, 'error']));

const sharedRules = {
  ...asErrors(security.configs.recommended.rules),
  ...asErrors(noUnsanitized.configs.recommended.rules),
  // Type-unaware: it flags every obj[key], keys TypeScript proves are literal unions included
  // (26 of 26 findings in src/ were). local-security/no-wide-string-key is the typed version.
  'security/detect-object-injection': 'off',
  'local-security/no-html-sink': 'error',
};

/** The gate's rules on our sources; eslint.config.js includes it too, so `npm run lint` enforces them. */
export const sourceSecurityConfig = {
  files: SOURCE_FILES,
  plugins: { security, 'no-unsanitized': noUnsanitized, 'local-security': localSecurity },
  rules: {
    ...sharedRules,
    'local-security/no-path-auth': 'error',
    'local-security/strict-router': 'error',
    'local-security/no-raw-outbound-request': ['error', { allow: OUTBOUND_ALLOWED }],
    'local-security/no-wide-string-key': 'error',
  },
};

export default [
  { linterOptions: { reportUnusedDisableDirectives: 'warn' } },
  {
    files: SOURCE_FILES,
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: path.resolve(import.meta.dirname, '..') },
    },
  },
  sourceSecurityConfig,
];

/** Served scripts are plain browser JavaScript: parsed as modules, no type information. */
export const servedScriptsConfig = [
  { ignores: ['!**/node_modules/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'warn' } },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'module', ecmaVersion: 'latest' },
    plugins: { security, 'no-unsanitized': noUnsanitized, 'local-security': localSecurity },
    rules: {
      'no-unsanitized/property': 'error',
      'no-unsanitized/method': 'error',
      'local-security/no-html-sink': 'error',
      'security/detect-eval-with-expression': 'error',
      'security/detect-bidi-characters': 'error',
    },
  },
];
