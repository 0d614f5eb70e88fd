// ESLint flat config: typed rules for src (the security gate's included), lighter rules for tests
// and scripts.
import path from 'node:path';

import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

import { importBoundaryOptions, typeScriptAwareResolver } from './eslint/import-boundaries.js';
import { sourceSecurityConfig } from './eslint/security-config.js';

/** File names are kebab-case (STYLE.md "Naming"); one convention, checked here. */
const kebabCaseFiles = {
  meta: { type: 'suggestion', schema: [], messages: { kebab: "File name '{{name}}' is not kebab-case." } },
  create(context) {
    return {
      Program(node) {
        const base = path.basename(context.filename).replace(/(\.(test|d|config))?\.(ts|js|mjs|cjs)$/, '');
        if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(base)) {
          context.report({ node, messageId: 'kebab', data: { name: path.basename(context.filename) } });
        }
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.venv/**', 'scripts/**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: {
      'simple-import-sort': simpleImportSort,
      'import-x': importX,
      local: { rules: { 'kebab-case-files': kebabCaseFiles } },
    },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      // ESM needs explicit extensions on relative imports.
      'import-x/extensions': ['error', 'ignorePackages', { js: 'always', ts: 'never' }],
      'import-x/no-duplicates': 'error',
      'local/kebab-case-files': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-expect-error': 'allow-with-description', 'ts-ignore': true },
      ],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.ts', 'migrations/**/*.ts'],
    settings: { 'import-x/resolver-next': [typeScriptAwareResolver] },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      'import-x/no-restricted-paths': ['error', importBoundaryOptions(import.meta.dirname)],
    },
  },
  // The security gate's rules (issue #18, docs/security.md), as errors here too.
  sourceSecurityConfig,
  {
    files: ['test/**/*.ts', 'scripts/**/*.{ts,mjs}', '*.config.{ts,js}'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The console's browser scripts (#17): plain ES modules served to the browser, not Node.
    files: ['src/http/console/assets/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'fetch',
          'EventSource',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  prettier,
);
