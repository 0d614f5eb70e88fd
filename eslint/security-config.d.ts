// Types of security-config.js for the TypeScript tests that exercise it.
import type { Linter } from 'eslint';

export const SECURITY_RULE_PREFIXES: string[];
export const SOURCE_FILES: string[];
export const SERVED_SCRIPTS: string[];
export const ACCEPTED_SERVED_FINDINGS: { file: string; ruleId: string; code: string; why: string }[];
export const sourceSecurityConfig: Linter.Config;
export const servedScriptsConfig: Linter.Config[];
declare const config: Linter.Config[];
export default config;
