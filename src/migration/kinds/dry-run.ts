/**
 * Run kind `dry_run` (DESIGN.md §11.1, §11.3, #13): the migrate kind's whole read side — fetch,
 * validation, note types, the existence check a real run would make, contacts and owners,
 * sanitizing, the attachment SSRF guard (with `verify_attachments` also the download, size cap
 * and magic bytes) — and nothing written to `contact_notes` or S3: only its own failure records
 * and, page by page, the forecast. It never halts itself; it records where a real run would.
 */
import type { CrmNoteResult } from '../../crm/crm-note.js';
import type { ForecastDoc, RunDoc } from '../../db/documents.js';
import type { PageMode } from '../../domain.js';
import { createCrmPageSource } from '../crm-page-source.js';
import { addForecastPage, emptyForecast, finishForecast, wouldHaltOf } from '../forecast.js';
import { checkHalt, pageFiguresOf } from '../halt-check.js';
import { pageOutcomeOf } from '../page-buckets.js';
import { type PreparedNotes, prepareNotes } from '../prepare-notes.js';
import { recordProblems } from '../problem-log.js';
import { addProblems, problemTallyOf } from '../problem-tally.js';
import { addPage, countersOf } from '../run-counters.js';
import type {
  PageOutcome,
  PageSource,
  PageStep,
  RunEnd,
  RunKindDeps,
  RunKindModule,
  RunStepContext,
} from '../run-step.js';
import { validateRun } from '../validate-run.js';

interface DryRunPlan {
  page: number;
  prepared: PreparedNotes;
  /** CRM fetch + prepare of this page, in ms. */
  readMs: number;
}

export const dryRunKind: RunKindModule = {
  kind: 'dry_run',
  // It writes nothing, so no flag is needed and a successful migration does not stop it (it then
  // forecasts what a catch-up would add); its success never makes the CID migrated.
  policy: {
    requiresFlag: false,
    refusedAfterSuccess: false,
    changesNotes: false,
    completesMigration: false,
    readsCrm: true,
    targetsRun: false,
    canBeRolledBack: false,
    failuresShownByDefault: false,
    acceptsOptions: ['verify_attachments'],
    resumable: true,
  },
  async begin(deps, ctx) {
    // The existence check a real run would make now: nothing changes CDP between the two.
    const companyHasNotes = await deps.contactNotes.hasLegacyNotes(ctx.run.company_sso_id);
    return createDryRunStep(deps, ctx, companyHasNotes ? 'skip_existing' : 'fresh');
  },
  resumeFieldsOf: (from) => ({
    problem_tally: problemTallyOf(from),
    ...(from.forecast ? { forecast: { ...from.forecast, outcome: null, estimated_duration: null } } : {}),
  }),
};

function createDryRunStep(
  deps: RunKindDeps,
  ctx: RunStepContext,
  // Never `replay`: a dry run wrote nothing a dead worker could have left half done.
  mode: Exclude<PageMode, 'replay'>,
): PageStep<CrmNoteResult, DryRunPlan> {
  const { run } = ctx;
  const verify = run.options?.verify_attachments === true;
  const kindDeps = {
    ...deps,
    attachments: verify ? deps.vetAttachments.downloads : deps.vetAttachments.urls,
  };
  const allowlist = new Set(deps.config.noteTypeAllowlist);
  // Resumed from the checkpoint: the forecast, the problems and the counters so far.
  let forecast: ForecastDoc = run.forecast
    ? { ...run.forecast, verify_attachments: run.forecast.verify_attachments && verify }
    : emptyForecast(verify);
  let tally = problemTallyOf(run);
  let counters = countersOf(run);
  const fetched = timedSource(createCrmPageSource(deps.extractor, run.cid, run.page_size));
  return {
    source: fetched.source,
    async prepare(page, _pageCtx, signal) {
      const started = performance.now();
      const prepared = await prepareNotes(
        kindDeps,
        {
          companySsoId: run.company_sso_id,
          page: page.position.page,
          mode,
          noteTypeAllowlist: allowlist,
          signal,
        },
        page.items,
      );
      const readMs = performance.now() - started + fetched.takeFetchMs(page.position.page);
      return { page: page.position.page, prepared, readMs };
    },
    async commit(plan) {
      const started = performance.now();
      const outcome = await recordAndTally(deps, run, plan);
      const failure_log_ms = performance.now() - started;
      tally = addProblems(tally, plan.prepared.problems);
      counters = addPage(counters, outcome, null);
      forecast = addForecastPage(forecast, plan.prepared, Math.round(plan.readMs + failure_log_ms));
      if (!forecast.would_halt) {
        const verdict = checkHalt(
          {
            companySsoId: run.company_sso_id,
            counters,
            page: plan.page,
            pageFigures: pageFiguresOf({ companySsoId: run.company_sso_id, ...plan.prepared }),
            runTally: tally,
          },
          deps.config,
        );
        if (verdict) forecast = { ...forecast, would_halt: wouldHaltOf(verdict, plan.page, counters, tally) };
      }
      return {
        ...outcome,
        timings: { ...outcome.timings, failure_log_ms: Math.round(failure_log_ms) },
        runFields: { problem_tally: tally, forecast },
      };
    },
    // The dry run reads to the end to give the whole picture; `would_halt` says where a real run stops.
    haltAfter: () => null,
    finish: (finalCounters, unaccountedIds) =>
      finishDryRun(deps, run, forecast, finalCounters, unaccountedIds),
  };
}

/** Its own failure records, and the tally of what a migration would do with the page. */
async function recordAndTally(deps: RunKindDeps, run: RunDoc, plan: DryRunPlan): Promise<PageOutcome> {
  const { prepared } = plan;
  const scope = { cid: run.cid, companySsoId: run.company_sso_id, runId: run._id, kind: 'dry_run' as const };
  await recordProblems(deps, { ...scope, page: plan.page }, prepared.problems);
  return pageOutcomeOf({
    prepared,
    problems: prepared.problems,
    migrated: prepared.candidates.length,
    skipped: prepared.skippedIds.size,
    writtenIds: [...prepared.candidates.map((c) => c.crm.id), ...prepared.skippedIds],
    timings: prepared.timings,
  });
}

/**
 * The real run's validation, predicted: CDP would then hold what it holds now plus the notes the
 * dry run would migrate. The dry run itself completes when it accounted for every CRM note.
 */
async function finishDryRun(
  deps: RunKindDeps,
  run: RunDoc,
  forecast: ForecastDoc,
  counters: Parameters<typeof finishForecast>[2],
  unaccountedIds: readonly string[],
): Promise<RunEnd> {
  const predicted = await validateRun(deps, run, counters, unaccountedIds, {
    cdpNotesToAdd: counters.notes_migrated,
  });
  const finished = finishForecast(
    forecast,
    {
      status: predicted.status,
      matchPct: predicted.matchPct ?? null,
      notesInScope: predicted.notesInScope ?? null,
    },
    counters,
  );
  const accounted = predicted.closure?.balanced === true && predicted.matchPct !== null;
  return {
    status: accounted ? 'completed_success' : 'completed_with_errors',
    // The predicted match is the forecast's; nothing of the dry run is in CDP to match.
    matchPct: null,
    notesInScope: predicted.notesInScope ?? null,
    closure: predicted.closure ?? null,
    runFields: { forecast: finished },
  };
}

/** The CRM source, timing each fetch so the forecast can add it to the page's read side. */
function timedSource(inner: PageSource<CrmNoteResult>): {
  source: PageSource<CrmNoteResult>;
  takeFetchMs(page: number): number;
} {
  const fetchMs = new Map<number, number>();
  return {
    source: {
      async fetch(position, signal) {
        const started = performance.now();
        const page = await inner.fetch(position, signal);
        fetchMs.set(position.page, performance.now() - started);
        return page;
      },
    },
    takeFetchMs(page) {
      const ms = fetchMs.get(page) ?? 0;
      fetchMs.delete(page);
      return ms;
    },
  };
}
