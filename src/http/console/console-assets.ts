/**
 * The console's static files (#17): a fixed list of names in `assets/` next to this module (the
 * build copies the folder into dist/), read once on first use. A request can only pick a name
 * from the list, so there is no path to climb.
 */
import { readFile } from 'node:fs/promises';

import { onceUntilFailure } from '../../once-until-failure.js';

export const CONSOLE_ASSET_FILES = [
  'console.css',
  'console.js',
  'tenants.js',
  'run.js',
  'waves.js',
  'favicon.svg',
] as const;

const TYPES: ReadonlyMap<string, string> = new Map([
  ['js', 'text/javascript; charset=utf-8'],
  ['css', 'text/css; charset=utf-8'],
  ['svg', 'image/svg+xml'],
]);

export interface ConsoleAsset {
  bytes: Buffer;
  type: string;
}

async function loadAll(): Promise<ReadonlyMap<string, ConsoleAsset>> {
  const entries = await Promise.all(
    CONSOLE_ASSET_FILES.map(async (name): Promise<[string, ConsoleAsset]> => {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- a name from the fixed CONSOLE_ASSET_FILES list, resolved against this module's own folder; no request input
      const bytes = await readFile(new URL(`./assets/${name}`, import.meta.url));
      return [
        name,
        { bytes, type: TYPES.get(name.slice(name.lastIndexOf('.') + 1)) ?? 'application/octet-stream' },
      ];
    }),
  );
  return new Map(entries);
}

/**
 * The assets of one app, loaded on the first request: `load(name)` is the asset of that exact
 * name, or null. A failed read is forgotten, so the next request tries again.
 */
export function createConsoleAssets(): { load(name: string): Promise<ConsoleAsset | null> } {
  const loaded = onceUntilFailure(loadAll);
  return { load: async (name) => (await loaded()).get(name) ?? null };
}
