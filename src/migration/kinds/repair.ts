/**
 * Run kind `repair` (DESIGN.md §11.5): reconcile's comparison, then the writes — `missing` notes
 * inserted (the cut-over catch-up), `stale` notes replaced with an update filtered on every value
 * read (a person's edit in between wins), both with the repair run's provenance and their
 * attachments re-hosted; `edited_in_cdp`, `conflict`, `no_provenance` and `orphan` left alone and
 * reported; still-failing notes recorded as a migration records them. Halts and validates like a
 * migration. Allowed in any CID state (after `completed_success` too).
 */
import type { NewMigratedNote } from '../../db/contact-notes-repository.js';
import type { RepairTotalsDoc, RunDoc, VerdictTotalsDoc } from '../../db/documents.js';
import { type ReconcileVerdict, severityOf } from '../../domain.js';
import {
  compareCrmPage,
  type ComparedNote,
  type ComparedPage,
  findingsOf,
  findOrphans,
} from '../compare-notes.js';
import { checkHalt, haltDecisionOf, pageFiguresOf } from '../halt-check.js';
import { migratedNoteOf } from '../migrated-note.js';
import { keepPresentable, type Problem, rehostAttachments } from '../prepare-notes.js';
import { countByReason, recordProblems } from '../problem-log.js';
import { addProblems, problemTallyOf } from '../problem-tally.js';
import { createReconcileSource, isCrmPage, type ReconcileItem } from '../reconcile-source.js';
import { addVerdicts, emptyVerdictTotals } from '../reconcile-verdict.js';
import type { PageOutcome, PageStep, RunKindDeps, RunKindModule, RunStepContext } from '../run-step.js';
import { validateRun } from '../validate-run.js';

/** A note repair means to write, re-hosted for real (uploaded) in `prepare`. */
interface PlannedWrite {
  note: ComparedNote;
  /** Null when the re-hosted version has nothing left to show (it fails like a migration would). */
  next: NewMigratedNote | null;
  problems: Problem[];
}

type RepairPlan =
  | { phase: 'crm'; compared: ComparedPage; writes: PlannedWrite[] }
  | { phase: 'cdp'; page: number; legacyIds: string[] };

const NO_REPAIR_TOTALS: RepairTotalsDoc = { inserted: 0, replaced: 0, replace_skipped: 0 };

export const repairKind: RunKindModule = {
  kind: 'repair',
  policy: {
    requiresFlag: true,
    refusedAfterSuccess: false,
    changesNotes: true,
    completesMigration: true,
    readsCrm: true,
    targetsRun: false,
    canBeRolledBack: true,
    failuresShownByDefault: true,
    acceptsOptions: [],
    resumable: false,
  },
  begin: (deps, ctx) => Promise.resolve(createRepairStep(deps, ctx)),
};

function createRepairStep(deps: RunKindDeps, ctx: RunStepContext): PageStep<ReconcileItem, RepairPlan> {
  const { run } = ctx;
  const allowlist = new Set(deps.config.noteTypeAllowlist);
  let verdicts: VerdictTotalsDoc = { ...emptyVerdictTotals(), ...run.reconcile };
  let repair: RepairTotalsDoc = { ...NO_REPAIR_TOTALS, ...run.repair };
  // As migrate: the run's problems so far, and the last committed CRM page's figures (halt check).
  let tally = problemTallyOf(run);
  let lastPage: ReturnType<typeof pageFiguresOf> | null = null;
  const runFields = () => ({ reconcile: verdicts, repair, problem_tally: tally });
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
      return { phase: 'crm', compared, writes: await planWrites(deps, run, compared, signal) };
    },
    async commit(plan) {
      // Before any write of a page (as reconcile): a worker that lost the run writes nothing, and
      // never judges orphans against seen ids the new owner may have cleared.
      await ctx.confirmLease();
      if (plan.phase === 'cdp') {
        const orphans = await findOrphans(deps, run, plan.legacyIds);
        await recordProblems(deps, scopeOf(run, plan.page), orphans);
        verdicts = addVerdicts(
          verdicts,
          orphans.map(() => 'orphan'),
        );
        tally = addProblems(tally, orphans);
        lastPage = null; // orphans are findings: nothing to halt on
        return { ...emptyTally(countByReason(orphans)), runFields: runFields() };
      }
      await deps.scratch.markSeen(run._id, plan.compared.page, plan.compared.crmIds, deps.now());
      const page = await writePage(deps, run, plan.compared, plan.writes);
      verdicts = addVerdicts(verdicts, page.verdicts);
      repair = {
        inserted: repair.inserted + page.repair.inserted,
        replaced: repair.replaced + page.repair.replaced,
        replace_skipped: repair.replace_skipped + page.repair.replace_skipped,
      };
      tally = addProblems(tally, page.problems);
      const { compared } = plan;
      lastPage = pageFiguresOf({
        companySsoId: run.company_sso_id,
        seen: compared.seen,
        outOfScope: compared.outOfScope,
        problems: page.problems,
        persons: compared.prepared.persons,
        attachments: compared.prepared.attachments,
      });
      return { ...page.outcome, runFields: runFields() };
    },
    haltAfter(counters, page) {
      if (!lastPage) return null;
      const verdict = checkHalt(
        { companySsoId: run.company_sso_id, counters, page, pageFigures: lastPage, runTally: tally },
        deps.config,
      );
      return verdict ? haltDecisionOf(verdict, counters) : null;
    },
    async finish(counters, unaccountedIds) {
      await deps.scratch.clear(run._id);
      const end = await validateRun(deps, run, counters, unaccountedIds);
      return { ...end, runFields: runFields() };
    },
  };
}

/**
 * Did this run write the note already from this page (a page replayed after a crash, or a write
 * applied twice)? One it wrote from another page is a CRM duplicate: compared as it is (`ok`).
 */
function ownWrite(run: RunDoc, page: number, n: ComparedNote): 'inserted' | 'replaced' | null {
  if (n.stored?.legacy_migration_run_id !== run._id || n.stored.legacy_migration_page !== page) return null;
  return n.stored.legacy_replaced_fingerprint === undefined ? 'inserted' : 'replaced';
}

/** `missing` and `stale` notes re-hosted for real: attachments uploaded under their deterministic keys. */
async function planWrites(
  deps: RunKindDeps,
  run: RunDoc,
  compared: ComparedPage,
  signal: AbortSignal,
): Promise<PlannedWrite[]> {
  const toWrite = compared.notes.filter(
    (n) =>
      (n.verdict === 'missing' || n.verdict === 'stale') && n.candidate && !ownWrite(run, compared.page, n),
  );
  const rehosted = await rehostAttachments(
    deps,
    { companySsoId: run.company_sso_id, signal },
    toWrite.map((n) => n.candidate!),
  );
  const presentable = keepPresentable(rehosted.candidates);
  const kept = new Map(presentable.candidates.map((c) => [c.crm.id, c]));
  const problems = [...rehosted.problems, ...presentable.problems];
  return toWrite.map((note) => {
    const candidate = kept.get(note.noteId);
    return {
      note,
      next: candidate
        ? { ...migratedNoteOf(run.company_sso_id, run._id, candidate), legacy_migration_page: compared.page }
        : null,
      problems: problems.filter((p) => p.noteId === note.noteId),
    };
  });
}

interface WrittenPage {
  outcome: PageOutcome;
  /** What the page recorded (findings, failures, warnings of what it wrote). */
  problems: Problem[];
  verdicts: ReconcileVerdict[];
  repair: RepairTotalsDoc;
}

/** Inserts, filtered replaces and the failure log of one CRM page; every note in exactly one bucket. */
async function writePage(
  deps: RunKindDeps,
  run: RunDoc,
  compared: ComparedPage,
  writes: readonly PlannedWrite[],
): Promise<WrittenPage> {
  const started = performance.now();
  const missing = writes.filter((w) => w.note.verdict === 'missing');
  const batch = await deps.contactNotes.createNotesBatch(missing.flatMap((w) => (w.next ? [w.next] : [])));
  const replace = await replaceStale(
    deps,
    run,
    writes.filter((w) => w.note.verdict === 'stale'),
  );
  const write_ms = Math.round(performance.now() - started);

  const own = compared.notes.map((n) => ownWrite(run, compared.page, n));
  const written = new Set([...batch.writtenIds, ...replace.replacedIds]);
  const problems = problemsOf(compared, writes, { batch, replace, written });
  await recordProblems(deps, scopeOf(run, compared.page), problems);
  const failedIds = new Set(
    problems.filter((p) => severityOf(p.reasonCode) === 'failure').map((p) => p.noteId),
  );
  const warned = new Set(
    problems
      .filter((p) => severityOf(p.reasonCode) === 'warning' && written.has(p.noteId))
      .map((p) => p.noteId),
  );
  const inserted = batch.migrated + own.filter((o) => o === 'inserted').length;
  const replaced = replace.replacedIds.size + own.filter((o) => o === 'replaced').length;
  return {
    outcome: {
      seen: compared.seen,
      migrated: inserted + replaced,
      // ok, left alone, replace skipped, or already in CDP at insert time.
      skipped: compared.notes.length - failedIds.size - inserted - replaced,
      failed: failedIds.size,
      outOfScope: compared.outOfScope,
      withWarnings: warned.size,
      problemsByReason: countByReason(problems),
      unaccountedIds: [],
      timings: {
        ...compared.timings,
        write_ms,
        failure_log_ms: Math.round(performance.now() - started) - write_ms,
      },
    },
    // A note this run wrote before a crash keeps the verdict it had when it was written.
    verdicts: compared.notes.map((n, i) =>
      own[i] === 'inserted' ? 'missing' : own[i] === 'replaced' ? 'stale' : n.verdict,
    ),
    repair: { inserted, replaced, replace_skipped: replace.skipped.length },
    problems,
  };
}

/** What the page records: findings of what it left, failures, and the problems of what it wrote. */
function problemsOf(
  compared: ComparedPage,
  writes: readonly PlannedWrite[],
  done: {
    batch: Awaited<ReturnType<RunKindDeps['contactNotes']['createNotesBatch']>>;
    replace: { replacedIds: ReadonlySet<string>; skipped: Problem[] };
    written: ReadonlySet<string>;
  },
): Problem[] {
  return [
    ...findingsOf(compared.notes.filter((n) => isLeftAlone(n.verdict))),
    ...compared.notes.flatMap((n) =>
      n.verdict === 'still_failing' && 'failure' in n.now ? [n.now.failure] : [],
    ),
    // What a migration records for a note it inserts (or fails to); a skipped replace says why instead.
    ...writes.filter((w) => w.note.verdict === 'missing').flatMap((w) => w.problems),
    ...writes
      .filter((w) => w.note.verdict === 'stale' && done.written.has(w.note.noteId))
      .flatMap((w) => w.problems),
    ...done.replace.skipped,
    ...done.batch.failed.map((f) => ({
      noteId: f.legacy_crm_note_id,
      reasonCode: f.reasonCode,
      details: f.details,
    })),
  ];
}

function isLeftAlone(verdict: ReconcileVerdict): boolean {
  return verdict === 'edited_in_cdp' || verdict === 'conflict' || verdict === 'no_provenance';
}

/**
 * A stale note is replaced only with the version that was compared (the upload pass produced the
 * same fingerprint) and only when every attachment was re-hosted — repair never swaps a note for
 * one that lost an attachment — and only while it still holds the values read.
 */
async function replaceStale(
  deps: RunKindDeps,
  run: RunDoc,
  writes: readonly PlannedWrite[],
): Promise<{ replacedIds: Set<string>; skipped: Problem[] }> {
  const skipped: Problem[] = [];
  const skip = (w: PlannedWrite, why: string) =>
    skipped.push({
      noteId: w.note.noteId,
      reasonCode: 'REPAIR_REPLACE_SKIPPED',
      details: {
        why,
        note_id: w.note.stored?._id.toHexString() ?? null,
        problems: w.problems.map((p) => p.reasonCode),
      },
    });
  const ready: PlannedWrite[] = [];
  for (const w of writes) {
    if (
      !w.next ||
      w.problems.some((p) => p.reasonCode.startsWith('ATTACHMENT_') || severityOf(p.reasonCode) === 'failure')
    )
      skip(w, 'attachments_not_rehosted');
    else if ('fingerprint' in w.note.now && w.next.legacy_fingerprint !== w.note.now.fingerprint)
      skip(w, 'changed_between_reads');
    else ready.push(w);
  }
  const replacedIds = await deps.contactNotes.replaceUnchanged(
    ready.map((w) => ({ stored: w.note.stored!, next: w.next! })),
    run._id,
  );
  for (const w of ready) if (!replacedIds.has(w.note.noteId)) skip(w, 'edited_in_cdp_meanwhile');
  return { replacedIds, skipped };
}

function emptyTally(problemsByReason: PageOutcome['problemsByReason']): PageOutcome {
  return {
    seen: 0,
    migrated: 0,
    skipped: 0,
    failed: 0,
    outOfScope: 0,
    withWarnings: 0,
    problemsByReason,
    unaccountedIds: [],
    timings: {},
  };
}

function scopeOf(run: RunDoc, page: number) {
  return { cid: run.cid, companySsoId: run.company_sso_id, runId: run._id, kind: 'repair' as const, page };
}
