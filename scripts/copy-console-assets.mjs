// Part of `npm run build`: the operator console's static files (#17) are not TypeScript, so tsc
// does not emit them; copy them next to the compiled module that serves them
// (src/http/console/console-assets.ts reads `./assets/` relative to itself).
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const from = path.join(root, 'src/http/console/assets');
const to = path.join(root, 'dist/src/http/console/assets');
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
