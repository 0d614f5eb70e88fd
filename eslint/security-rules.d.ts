// Types of security-rules.js for the TypeScript tests that exercise it.
import type { ESLint } from 'eslint';

declare const plugin: ESLint.Plugin & { rules: NonNullable<ESLint.Plugin['rules']> };
export default plugin;
