/**
 * The registry of run kinds (DESIGN.md §11.1): one module per kind, one line here. Typed as a
 * record over `RUN_KINDS`, so a kind declared in `domain.ts` without a module here (or the other
 * way round) does not compile.
 */
import type { RunKind } from '../domain.js';
import { dryRunKind } from './kinds/dry-run.js';
import { migrateKind } from './kinds/migrate.js';
import { reconcileKind } from './kinds/reconcile.js';
import { repairKind } from './kinds/repair.js';
import { rollbackKind } from './kinds/rollback.js';
import type { RunKindModule, RunKindPolicy } from './run-step.js';

export const RUN_KIND_MODULES: Readonly<Record<RunKind, RunKindModule>> = {
  migrate: migrateKind,
  dry_run: dryRunKind,
  reconcile: reconcileKind,
  repair: repairKind,
  rollback: rollbackKind,
};

export function runKindModule(kind: RunKind): RunKindModule {
  return RUN_KIND_MODULES[kind];
}

export function runKindPolicy(kind: RunKind): RunKindPolicy {
  return RUN_KIND_MODULES[kind].policy;
}

function kindsWhere(test: (policy: RunKindPolicy) => boolean): RunKind[] {
  return Object.values(RUN_KIND_MODULES)
    .filter((m) => test(m.policy))
    .map((m) => m.kind);
}

/** Kinds that change `contact_notes`: the CID's latest run of these decides `ALREADY_MIGRATED`. */
export function kindsThatChangeNotes(): RunKind[] {
  return kindsWhere((p) => p.changesNotes);
}

/** Kinds whose failure records default failure queries and exports show (DESIGN.md §11.1). */
export function kindsShownByDefault(): RunKind[] {
  return kindsWhere((p) => p.failuresShownByDefault);
}

/** Kinds `POST /private/notes/migrate` starts (the others act on a run and have their own route). */
export function kindsTriggeredByCid(): RunKind[] {
  return kindsWhere((p) => !p.targetsRun);
}
