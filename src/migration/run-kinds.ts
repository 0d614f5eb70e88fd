/**
 * The registry of run kinds (DESIGN.md §11.1): one module per kind, one line here. Typed as a
 * record over `RUN_KINDS`, so a kind declared in `domain.ts` without a module here (or the other
 * way round) does not compile.
 */
import type { RunKind } from '../domain.js';
import { dryRunKind } from './kinds/dry-run.js';
import { migrateKind } from './kinds/migrate.js';
import type { RunKindModule, RunKindPolicy } from './run-step.js';

export const RUN_KIND_MODULES: Readonly<Record<RunKind, RunKindModule>> = {
  migrate: migrateKind,
  dry_run: dryRunKind,
};

export function runKindModule(kind: RunKind): RunKindModule {
  return RUN_KIND_MODULES[kind];
}

export function runKindPolicy(kind: RunKind): RunKindPolicy {
  return RUN_KIND_MODULES[kind].policy;
}

/** Kinds whose `completed_success` makes a CID migrated (what `ALREADY_MIGRATED` looks at). */
export function kindsThatCompleteMigration(): RunKind[] {
  return Object.values(RUN_KIND_MODULES)
    .filter((m) => m.policy.completesMigration)
    .map((m) => m.kind);
}

/** Kinds whose failure records the default failure queries and exports show (no `run_id`, no `kind`). */
export function kindsShownByDefault(): RunKind[] {
  return Object.values(RUN_KIND_MODULES)
    .filter((m) => m.policy.failuresShownByDefault)
    .map((m) => m.kind);
}
