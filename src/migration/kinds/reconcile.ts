/**
 * Run kind `reconcile` (DESIGN.md §11.5): for every in-scope CRM note, what a migration would
 * write now against what CDP holds — `ok`, `missing`, `stale`, `edited_in_cdp`, `conflict`,
 * `still_failing`, `no_provenance` — then every CDP legacy note CRM no longer returned: `orphan`.
 * Findings go to the failure log (severity `finding`), totals per verdict to the run. Writes no
 * note and no object (attachments are processed without upload); allowed in any CID state.
 */
import type { VerdictTotalsDoc } from '../../db/documents.js';
import { compareCrmPage, type ComparedPage, findingsOf, findOrphans } from '../compare-notes.js';
import type { Problem } from '../prepare-notes.js';
import { countByReason, recordProblems } from '../problem-log.js';
import { createReconcileSource, isCrmPage, type ReconcileItem } from '../reconcile-source.js';
import { addVerdicts, emptyVerdictTotals } from '../reconcile-verdict.js';
import type { PageOutcome, PageStep, RunKindDeps, RunKindModule, RunStepContext } from '../run-step.js';

type ReconcilePlan =
  { phase: 'crm'; compared: ComparedPage } | { phase: 'cdp'; page: number; legacyIds: string[] };

export const reconcileKind: RunKindModule = {
  kind: 'reconcile',
  policy: {
    requiresFlag: false,
    refusedAfterSuccess: false,
    changesNotes: false,
    completesMigration: false,
    readsCrm: true,
    targetsRun: false,
    canBeRolledBack: false,
    failuresShownByDefault: false,
    acceptsOptions: [],
    resumable: false,
  },
  begin: (deps, ctx) => Promise.resolve(createReconcileStep(deps, ctx)),
};

function createReconcileStep(deps: RunKindDeps, ctx: RunStepContext): PageStep<ReconcileItem, ReconcilePlan> {
  const { run } = ctx;
  const allowlist = new Set(deps.config.noteTypeAllowlist);
  let totals: VerdictTotalsDoc = { ...emptyVerdictTotals(), ...run.reconcile };
  return {
    source: createReconcileSource(deps, run),
    async prepare(page, _pageCtx, signal) {
      if (!isCrmPage(page)) {
        const legacyIds = page.items.flatMap((i) => ('cdpLegacyId' in i ? [i.cdpLegacyId] : []));
        return { phase: 'cdp', page: page.position.page, legacyIds };
      }
      const results = page.items.flatMap((i) => ('crm' in i ? [i.crm] : []));
      const compared = await compareCrmPage(
        deps,
        { run, page: page.position.page, noteTypeAllowlist: allowlist, signal },
        results,
      );
      return { phase: 'crm', compared };
    },
    async commit(plan) {
      const started = performance.now();
      // A worker that lost the run writes no finding: after the new owner finishes, the seen ids
      // are cleared and every CDP id would look orphaned to it (its fenced checkpoint comes too late).
      await ctx.confirmLease();
      let outcome: PageOutcome;
      if (plan.phase === 'cdp') {
        // Every CRM page is committed (marked seen) before the first orphan page commits.
        const orphans = await findOrphans(deps, run, plan.legacyIds);
        await record(deps, ctx, plan.page, orphans);
        totals = addVerdicts(
          totals,
          orphans.map(() => 'orphan'),
        );
        outcome = tallyOf({ seen: 0, outOfScope: 0 }, orphans, {});
      } else {
        const { compared } = plan;
        await deps.scratch.markSeen(run._id, compared.page, compared.crmIds, deps.now());
        const findings = findingsOf(compared.notes);
        await record(deps, ctx, compared.page, findings);
        totals = addVerdicts(
          totals,
          compared.notes.map((n) => n.verdict),
        );
        outcome = tallyOf(compared, findings, compared.timings);
      }
      outcome.timings.commit_ms = Math.round(performance.now() - started);
      return { ...outcome, runFields: { reconcile: totals } };
    },
    haltAfter: () => null,
    async finish() {
      await deps.scratch.clear(run._id);
      ctx.log.info({ reconcile: totals }, 'reconcile finished');
      return { status: 'completed_success', runFields: { reconcile: totals } };
    },
  };
}

function record(deps: RunKindDeps, ctx: RunStepContext, page: number, findings: readonly Problem[]) {
  const { run } = ctx;
  return recordProblems(
    deps,
    { cid: run.cid, companySsoId: run.company_sso_id, runId: run._id, kind: 'reconcile', page },
    findings,
  );
}

/** A reconcile changes nothing: the counters say how many CRM notes it read; verdicts are on `reconcile`. */
function tallyOf(
  page: { seen: number; outOfScope: number },
  findings: readonly Problem[],
  timings: Record<string, number>,
): PageOutcome {
  return {
    seen: page.seen,
    migrated: 0,
    skipped: 0,
    failed: 0,
    outOfScope: page.outOfScope,
    withWarnings: 0,
    problemsByReason: countByReason(findings),
    unaccountedIds: [],
    timings: { ...timings },
  };
}
