// The direction dependencies point in (DESIGN.md §2, README "Layout"): `http`, `jobs`, `cli` →
// `migration` → the adapters (`crm`, `normalize`, `attachments`, `resolve`, `db`). Enforced by
// import-x/no-restricted-paths; the zones are a function of the source root so a test can point
// them at a fixture tree (test/unit/lint/import-boundaries.test.ts).
//
// The one allowed skip: `http` imports `db` repositories directly for read-only queries (status,
// run history, failure log, read path) — a query has no migration logic to go through.
import { createNodeResolver } from 'eslint-plugin-import-x';

const ADAPTERS = ['crm', 'normalize', 'attachments', 'resolve', 'db'];
const CALLERS = ['http', 'jobs', 'cli'];

/**
 * The rule's options. `basePath` is explicit: the rule resolves zones against `process.cwd()`
 * otherwise, so linting from another folder would silently check nothing.
 * @param {string} projectRoot absolute path of the folder holding `src/`
 */
export function importBoundaryOptions(projectRoot) {
  return { basePath: projectRoot, zones: importBoundaryZones() };
}

function importBoundaryZones() {
  const at = (dir) => `./src/${dir}`;
  return [
    {
      target: at('migration'),
      from: CALLERS.map(at),
      message: 'migration/ must not depend on its callers (http, jobs, cli): pass what it needs in as deps.',
    },
    ...ADAPTERS.map((adapter) => ({
      target: at(adapter),
      from: ['migration', ...CALLERS].map(at),
      message: `${adapter}/ is an adapter: it must not import migration/, http/, jobs/ or cli/ (dependencies point inward).`,
    })),
    {
      target: at('http'),
      from: [at('cli'), at('jobs')],
      message: 'http/ must not import cli/ or jobs/: the composition root (app.ts) wires them together.',
    },
    {
      target: at('jobs'),
      from: [at('cli'), at('http')],
      message: 'jobs/ must not import cli/ or http/: the composition root (app.ts) wires them together.',
    },
  ];
}

/** Resolves `./x.js` to `./x.ts`, as TypeScript's NodeNext resolution does. */
export const typeScriptAwareResolver = createNodeResolver({
  extensions: ['.ts', '.js', '.json'],
  extensionAlias: { '.js': ['.ts', '.js'] },
});
