/**
 * Which console features this service can back (#17: "only actions whose endpoints exist are
 * shown"), read from the routes actually registered on the private router and the run kinds the
 * trigger accepts, so a console built before an API lands shows it the day it does. Pure.
 */

export interface RouteEntry {
  method: string;
  /** The route template, e.g. `/private/notes/migration/runs/:run_id/rollback`. */
  path: string;
}

/** What the service says of its run kinds (`migration/run-kinds.ts`, DESIGN.md §11.1). */
export interface RunKindFacts {
  /** Kinds `POST /private/notes/migrate` starts (not those acting on a run, like rollback). */
  triggered: readonly string[];
  /** Kinds a `mode: "resume"` run can continue (the others always restart). */
  resumable: readonly string[];
  /** Every kind a run can have (the tenant list filters by them). */
  all: readonly string[];
}

export interface ConsoleCapabilities {
  /** Run kinds `POST /private/notes/migrate` accepts (DESIGN.md §11.1). */
  kinds: readonly string[];
  /** Of those, the kinds that can resume an earlier run from its checkpoint. */
  resumableKinds: readonly string[];
  /** Every run kind, for the tenant list's filter. */
  listedKinds: readonly string[];
  migrate: boolean;
  dryRun: boolean;
  /** The dry run's `verify_attachments` option (#13). */
  verifyAttachments: boolean;
  reconcile: boolean;
  repair: boolean;
  cancel: boolean;
  /** `POST …/runs/:run_id/rollback` with its `dry_run` preview (#14): the template, or null. */
  rollbackPath: string | null;
  /** `GET /private/notes/waves/:id` (#16): the template, or null. */
  wavePath: string | null;
  /** `GET /private/notes/waves` (a list of waves), when it exists. */
  waveListPath: string | null;
  /** The wave's SSE stream, when it exists. */
  waveStreamPath: string | null;
  /** `POST` wave actions that exist, by name. */
  waveActions: Readonly<Partial<Record<WaveAction, string>>>;
}

export const WAVE_ACTIONS = ['pause', 'resume', 'cancel'] as const;
export type WaveAction = (typeof WAVE_ACTIONS)[number];

const PARAM = /:[A-Za-z_]+/g;
/** Compares templates whatever their parameters are called (`:id`, `:wave_id`). */
const shapeOf = (path: string) => path.replace(PARAM, ':');

export function detectConsoleCapabilities(
  routes: readonly RouteEntry[],
  kindFacts: RunKindFacts,
  migrateBodyProperties: readonly string[],
): ConsoleCapabilities {
  const kinds = kindFacts.triggered;
  const find = (method: string, shape: string) =>
    routes.find((r) => r.method === method && shapeOf(r.path) === shape)?.path ?? null;
  const trigger = find('POST', '/private/notes/migrate') !== null;
  const wavePath = find('GET', '/private/notes/waves/:');
  const waveActions: Partial<Record<WaveAction, string>> = {};
  for (const action of WAVE_ACTIONS) {
    const path = wavePath === null ? null : find('POST', `/private/notes/waves/:/${action}`);
    if (path !== null) waveActions[action] = path;
  }
  return {
    kinds: trigger ? kinds : [],
    resumableKinds: trigger ? kinds.filter((k) => kindFacts.resumable.includes(k)) : [],
    listedKinds: kindFacts.all,
    migrate: trigger && kinds.includes('migrate'),
    dryRun: trigger && kinds.includes('dry_run'),
    verifyAttachments:
      trigger && kinds.includes('dry_run') && migrateBodyProperties.includes('verify_attachments'),
    reconcile: trigger && kinds.includes('reconcile'),
    repair: trigger && kinds.includes('repair'),
    cancel: find('POST', '/private/notes/migration/cancel') !== null,
    rollbackPath: find('POST', '/private/notes/migration/runs/:/rollback'),
    wavePath,
    waveListPath: wavePath === null ? null : find('GET', '/private/notes/waves'),
    waveStreamPath: wavePath === null ? null : find('GET', '/private/notes/waves/:/stream'),
    waveActions,
  };
}

/** A route template with its one parameter filled in, percent-encoded. */
export function fillTemplate(template: string, value: string): string {
  return template.replace(PARAM, () => encodeURIComponent(value));
}

/** The routes of a router as `{method, path}` (HEAD aside: it follows GET). */
export function routeEntriesOf(router: {
  stack: readonly { methods: readonly string[]; path: unknown }[];
}): RouteEntry[] {
  return router.stack.flatMap((layer) =>
    layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) })),
  );
}

/** The property names of the trigger body in an OpenAPI document (`components.schemas.MigrateRequest`). */
export function migrateBodyPropertiesOf(doc: unknown): string[] {
  const properties: unknown = ['components', 'schemas', 'MigrateRequest', 'properties'].reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? Reflect.get(node, key) : undefined),
    doc,
  );
  return typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
}
