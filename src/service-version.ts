/**
 * Where the project lives and which version it is, for the audit stamp of every run
 * (DESIGN.md §11.9) and for scripts that write docs. Read on demand, never at import.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json: the project root from `src/` (tests) and from `dist/src/`. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- walks up from this module's own folder; no input reaches it
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export function readServiceVersion(): string {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- the package.json of this package, found by packageRoot(); no input reaches it
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
