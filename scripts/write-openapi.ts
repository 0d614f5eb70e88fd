/**
 * Writes `docs/openapi.json` from `src/http/openapi.ts` (the document the API serves at
 * `/private/openapi.json`). A test fails when the two differ, so run this after changing a route:
 *
 *   npm run build && node dist/scripts/write-openapi.js
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { buildOpenApiDocument } from '../src/http/openapi.js';
import { packageRoot } from '../src/service-version.js';

const target = path.join(packageRoot(), 'docs', 'openapi.json');
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
