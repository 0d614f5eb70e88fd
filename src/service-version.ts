/**
 * The service's own version, from its package.json, for the audit stamp of every run
 * (DESIGN.md §11.9). Read on demand (not at import) from the nearest package.json above this
 * file, which is the project's both from `src/` (tests) and from `dist/src/` (the binary).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'crm-notes-migrator';

export function readServiceVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json at this level: look one up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
