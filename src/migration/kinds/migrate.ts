/**
 * Run kind `migrate` (DESIGN.md §1, §4): every in-scope CRM note of the CID inserted into
 * `contact_notes` once, with provenance; problems to the failure log; halt above
 * `MAX_FAILURE_RATE`; validation at the end. Notes already in CDP are never modified.
 */
import type { CrmNoteResult } from '../../crm/crm-note.js';
import type { NotesBatchResult } from '../../db/contact-notes-repository.js';
import type { RunDoc } from '../../db/documents.js';
import type { PageMode } from '../../domain.js';
import { createCrmPageSource } from '../crm-page-source.js';
import { checkHalt, haltDecisionOf, pageFiguresOf } from '../halt-check.js';
import { migratedNoteOf } from '../migrated-note.js';
import { pageOutcomeOf } from '../page-buckets.js';
import { type PreparedNotes, prepareNotes, type Problem } from '../prepare-notes.js';
import { recordProblems } from '../problem-log.js';
import { addProblems, problemTallyOf } from '../problem-tally.js';
import type {
  HaltDecision,
  PageOutcome,
  PageStep,
  RunKindDeps,
  RunKindModule,
  RunStepContext,
} from '../run-step.js';
import { validateRun } from '../validate-run.js';

interface MigratePlan {
  page: number;
  mode: PageMode;
  prepared: PreparedNotes;
}

export const migrateKind: RunKindModule = {
  kind: 'migrate',
  policy: {
    requiresFlag: true,
    refusedAfterSuccess: true,
    changesNotes: true,
    completesMigration: true,
    readsCrm: true,
    targetsRun: false,
    canBeRolledBack: true,
    failuresShownByDefault: true,
    acceptsOptions: [],
    resumable: true,
  },
  async begin(deps, ctx) {
    // A first run into an empty company never pays for the existence check.
    const companyHasNotes = await deps.contactNotes.hasLegacyNotes(ctx.run.company_sso_id);
    return createMigrateStep(deps, ctx, companyHasNotes);
  },
  resumeFieldsOf: (from) => ({ problem_tally: problemTallyOf(from) }),
};

/**
 * The page mode of a CRM page: a replayed page (takeover) takes the full path so a note this run
 * wrote just before a crash still gets its warnings recorded; otherwise notes already in CDP are
 * skipped up front, unless the company had none when the run was claimed.
 */
export function pageModeOf(replay: boolean, companyHasNotes: boolean): PageMode {
  if (replay) return 'replay';
  return companyHasNotes ? 'skip_existing' : 'fresh';
}

function createMigrateStep(
  deps: RunKindDeps,
  ctx: RunStepContext,
  companyHasNotes: boolean,
): PageStep<CrmNoteResult, MigratePlan> {
  const { run } = ctx;
  const allowlist = new Set(deps.config.noteTypeAllowlist);
  // The run's problems so far (resumed from the checkpoint) and the last committed page's figures.
  let tally = problemTallyOf(run);
  let lastPage: PageFigures | null = null;
  return {
    source: createCrmPageSource(deps.extractor, run.cid, run.page_size),
    async prepare(page, pageCtx, signal) {
      const mode = pageModeOf(pageCtx.replay, companyHasNotes);
      const prepared = await prepareNotes(
        deps,
        {
          companySsoId: run.company_sso_id,
          page: page.position.page,
          mode,
          noteTypeAllowlist: allowlist,
          signal,
        },
        page.items,
      );
      return { page: page.position.page, mode, prepared };
    },
    async commit(plan) {
      const { outcome, problems } = await writeAndTally(deps, run, plan);
      tally = addProblems(tally, problems);
      lastPage = pageFiguresOf({ companySsoId: run.company_sso_id, ...plan.prepared, problems });
      return { ...outcome, runFields: { problem_tally: tally } };
    },
    haltAfter(counters, page): HaltDecision | null {
      if (!lastPage) return null;
      const verdict = checkHalt(
        { companySsoId: run.company_sso_id, counters, page, pageFigures: lastPage, runTally: tally },
        deps.config,
      );
      return verdict ? haltDecisionOf(verdict, counters) : null;
    },
    finish: (counters, unaccountedIds) => validateRun(deps, run, counters, unaccountedIds),
  };
}

type PageFigures = ReturnType<typeof pageFiguresOf>;

/**
 * Of the notes the write found already in CDP, those this run inserted from this very page:
 * migrated, not skipped. On a replayed page they are a dead owner's half-done write; on any other
 * page, a write the database applied twice (a driver retry whose first attempt had landed). A
 * note this run wrote from another page is a CRM duplicate and stays skipped.
 */
async function insertedEarlierByThisPage(
  deps: RunKindDeps,
  run: RunDoc,
  plan: MigratePlan,
  batch: NotesBatchResult,
): Promise<number> {
  if (batch.skipped === 0) return 0;
  // The ones upserted just now carry this run and page too.
  const own = await deps.contactNotes.countInsertedByRun(
    run.company_sso_id,
    batch.writtenIds,
    run._id,
    plan.page,
  );
  const earlier = Math.min(Math.max(0, own - batch.migrated), batch.skipped);
  if (earlier > 0 && plan.mode !== 'replay') {
    deps.logger.warn(
      { cid: run.cid, run_id: run._id, page: plan.page, notes: earlier },
      "a page's write found its own notes already inserted (applied twice): counted as migrated",
    );
  }
  return earlier;
}

/** The idempotent write, the failure log, and the page's tally: every note in exactly one bucket. */
async function writeAndTally(
  deps: RunKindDeps,
  run: RunDoc,
  plan: MigratePlan,
): Promise<{ outcome: PageOutcome; problems: Problem[] }> {
  const { prepared } = plan;
  const started = performance.now();
  const batch = await deps.contactNotes.createNotesBatch(
    prepared.candidates.map((c) => ({
      ...migratedNoteOf(run.company_sso_id, run._id, c),
      legacy_migration_page: plan.page,
    })),
  );
  const problems: Problem[] = [
    ...prepared.problems,
    ...batch.failed.map((f) => ({
      noteId: f.legacy_crm_note_id,
      reasonCode: f.reasonCode,
      details: f.details,
    })),
  ];
  const earlier = await insertedEarlierByThisPage(deps, run, plan, batch);
  const migrated = batch.migrated + earlier;
  const skipped = batch.skipped + prepared.skippedIds.size - earlier;
  const write_ms = Math.round(performance.now() - started);
  await recordProblems(deps, scopeOf(run, plan.page), problems);
  const failure_log_ms = Math.round(performance.now() - started) - write_ms;

  const outcome = pageOutcomeOf({
    prepared,
    problems,
    migrated,
    skipped,
    writtenIds: [...batch.writtenIds, ...prepared.skippedIds],
    timings: { ...prepared.timings, write_ms, failure_log_ms },
  });
  return { outcome, problems };
}

function scopeOf(run: RunDoc, page: number) {
  return { cid: run.cid, companySsoId: run.company_sso_id, runId: run._id, kind: 'migrate' as const, page };
}
