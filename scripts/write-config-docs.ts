/**
 * Writes the configuration table of `docs/operations.md` from `src/config.ts`, where each
 * variable's default, range and doc are declared once. A test fails when the two differ:
 *
 *   npm run docs:config
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { configReferenceTable } from '../src/config.js';
import { packageRoot } from '../src/service-version.js';
import { replaceConfigTable } from './config-docs.js';

const target = path.join(packageRoot(), 'docs', 'operations.md');
writeFileSync(target, replaceConfigTable(readFileSync(target, 'utf8'), configReferenceTable()));
process.stdout.write(`wrote the configuration table of ${target}\n`);
