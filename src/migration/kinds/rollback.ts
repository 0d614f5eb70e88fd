/**
 * Run kind `rollback` (DESIGN.md §11.6): undoes exactly one run R (`target_run_id`). Pages R's
 * notes from CDP by `_id` cursor (deletes would shift page numbers), deletes the untouched ones
 * with a filter on every value read — a person's edit that lands in between wins — then their S3
 * objects; keeps and reports edited ones (`ROLLBACK_KEPT_EDITED`). Never reads CRM. Crash-safe:
 * each page writes its delete intents on the run first (fenced), so objects and counts of notes
 * deleted just before a crash are finished by whoever claims the run next (`recoverIntents`).
 */
import { ObjectId } from 'mongodb';

import { noteIdOfCursor, type StoredNoteDoc } from '../../db/contact-notes-provenance.js';
import type { RollbackIntentsDoc, RollbackTotalsDoc, RunDoc } from '../../db/documents.js';
import type { Provenance } from '../note-fingerprint.js';
import type { Problem } from '../prepare-notes.js';
import { countByReason, recordProblems } from '../problem-log.js';
import { addRollbackTotals, NO_ROLLBACK_TOTALS, rollbackDecisionOf } from '../rollback-plan.js';
import type { PageOutcome, PageStep, RunKindDeps, RunKindModule, RunStepContext } from '../run-step.js';

/** Earlier rollbacks of the same target are looked for among the CID's newest runs. */
const EARLIER_ROLLBACKS_LOOKED_AT = 50;

interface RollbackPlan {
  page: number;
  seen: number;
  toDelete: { note: StoredNoteDoc; objectKeys: string[] }[];
  kept: { note: StoredNoteDoc; provenance: Exclude<Provenance, 'untouched'> }[];
}

export const rollbackKind: RunKindModule = {
  kind: 'rollback',
  policy: {
    // An undo must work after the flag was switched off because the run was wrong.
    requiresFlag: false,
    refusedAfterSuccess: false,
    changesNotes: true,
    completesMigration: false,
    readsCrm: false,
    targetsRun: true,
    canBeRolledBack: false,
    failuresShownByDefault: false,
    acceptsOptions: [],
    resumable: false,
  },
  async begin(deps, ctx) {
    const target = await targetOf(deps, ctx.run);
    const recovered = await recoverIntents(deps, ctx, target);
    // Counted before this run deleted anything (a takeover adds back what the dead worker deleted).
    const notesTotal =
      ctx.run.notes_total ??
      (await deps.contactNotes.countRunNotes(target.company_sso_id, target._id)) + recovered.notes_deleted;
    return createRollbackStep(deps, ctx, target, notesTotal, recovered);
  },
};

async function targetOf(deps: RunKindDeps, run: RunDoc): Promise<RunDoc> {
  const targetId = run.target_run_id;
  const target = targetId === undefined ? null : await deps.runs.get(targetId);
  if (!target) throw new Error(`rollback run ${run._id}: its target run ${String(targetId)} does not exist`);
  if (target.company_sso_id !== run.company_sso_id || target.cid !== run.cid) {
    throw new Error(`rollback run ${run._id}: target run ${target._id} belongs to another tenant`);
  }
  return target;
}

/**
 * Intents a worker left when it died (on this run), or a rollback of R that failed (on that run):
 * objects of notes already gone are deleted; this run's intents past its checkpoint are counted
 * now, because no checkpoint holds them. The record stays until this run's next page replaces
 * it, so a second crash before that checkpoint recovers it again instead of losing the count.
 */
async function recoverIntents(
  deps: RunKindDeps,
  ctx: RunStepContext,
  target: RunDoc,
): Promise<RollbackTotalsDoc> {
  const { run } = ctx;
  const earlier = (await deps.runs.listForCid(run.cid, EARLIER_ROLLBACKS_LOOKED_AT)).filter(
    (r) => r._id !== run._id && r.target_run_id === target._id && r.status !== 'in_progress',
  );
  const records = [run, ...earlier].flatMap((r) =>
    r.rollback_intents ? [{ own: r._id === run._id, ...r.rollback_intents }] : [],
  );
  const intents = records.flatMap((r) =>
    r.notes.map((n) => ({ ...n, counts: r.own && r.page > run.checkpoint.page })),
  );
  if (intents.length === 0) return NO_ROLLBACK_TOTALS;
  const present = await deps.contactNotes.findPresentIds(intents.map((i) => new ObjectId(i.note_id)));
  const gone = intents.filter((i) => !present.has(i.note_id));
  await ctx.confirmLease();
  await deps.attachmentObjects.deleteObjects([...new Set(gone.flatMap((i) => i.object_keys))], ctx.signal);
  const uncounted = gone.filter((i) => i.counts);
  ctx.log.info(
    { intents: intents.length, gone: gone.length, recounted: uncounted.length },
    'rollback recovered delete intents',
  );
  return {
    notes_deleted: uncounted.length,
    notes_kept: 0,
    objects_deleted: uncounted.reduce((n, i) => n + i.object_keys.length, 0),
  };
}

function createRollbackStep(
  deps: RunKindDeps,
  ctx: RunStepContext,
  target: RunDoc,
  notesTotal: number,
  recovered: RollbackTotalsDoc,
): PageStep<StoredNoteDoc, RollbackPlan> {
  const { run } = ctx;
  let totals = addRollbackTotals(run.rollback ?? NO_ROLLBACK_TOTALS, recovered);
  // Notes the dead worker deleted past its checkpoint are no longer in CDP, so no page will see
  // them: the first page committed here counts them as seen, in the same checkpoint as `totals`
  // (the source always ends with an empty page, so there is one).
  let recoveredUnseen = recovered.notes_deleted;
  return {
    source: {
      async fetch(position) {
        const notes = await deps.contactNotes.listRunNotes(
          target.company_sso_id,
          target._id,
          noteIdOfCursor(position.cursor),
          run.page_size,
        );
        const last = notes.at(-1);
        return {
          position,
          items: notes,
          total: notesTotal,
          totalPages: null,
          // Ends with an empty page, so the checkpoint after the last page holds the end cursor.
          next: last ? { page: position.page + 1, cursor: last._id.toHexString() } : null,
        };
      },
    },
    prepare(page) {
      const plan: RollbackPlan = {
        page: page.position.page,
        seen: page.items.length,
        toDelete: [],
        kept: [],
      };
      for (const note of page.items) {
        const decision = rollbackDecisionOf(target.company_sso_id, note);
        if (decision.action === 'delete') plan.toDelete.push({ note, objectKeys: decision.objectKeys });
        else plan.kept.push({ note, provenance: decision.provenance });
      }
      return Promise.resolve(plan);
    },
    async commit(plan) {
      const { outcome, pageTotals } = await deleteAndTally(deps, ctx, target, plan);
      totals = addRollbackTotals(totals, pageTotals);
      const seen = outcome.seen + recoveredUnseen;
      recoveredUnseen = 0;
      return { ...outcome, seen, runFields: { rollback: totals } };
    },
    haltAfter: () => null,
    async finish() {
      await ctx.confirmLease();
      await deps.runs.markRolledBack(target._id, run._id, deps.now());
      ctx.log.info({ target_run_id: target._id, ...totals }, 'run rolled back');
      return { status: 'completed_success', runFields: { rollback: totals, rollback_intents: null } };
    },
  };
}

/** Fenced intents → optimistic delete → what is gone loses its objects; the rest is kept. */
async function deleteAndTally(
  deps: RunKindDeps,
  ctx: RunStepContext,
  target: RunDoc,
  plan: RollbackPlan,
): Promise<{ outcome: Omit<PageOutcome, 'runFields'>; pageTotals: RollbackTotalsDoc }> {
  const { run } = ctx;
  const started = performance.now();
  const ids = plan.toDelete.map((d) => d.note._id);
  if (plan.toDelete.length > 0) {
    // One fenced write: the lease check and the intents are atomic, so a worker paused past its
    // lease records nothing when it wakes, and the next owner finds exactly what may be half-done.
    const intents: RollbackIntentsDoc = {
      page: plan.page,
      notes: plan.toDelete.map((d) => ({ note_id: d.note._id.toHexString(), object_keys: d.objectKeys })),
    };
    await ctx.writeAhead({ rollback_intents: intents });
    await deps.contactNotes.deleteUnchanged(plan.toDelete.map((d) => d.note));
  }
  const present = await deps.contactNotes.findPresentIds(ids);
  const deleted = plan.toDelete.filter((d) => !present.has(d.note._id.toHexString()));
  const editedMeanwhile = plan.toDelete.filter((d) => present.has(d.note._id.toHexString()));
  const objectKeys = deleted.flatMap((d) => d.objectKeys);
  await deps.attachmentObjects.deleteObjects(objectKeys, ctx.signal);
  const delete_ms = Math.round(performance.now() - started);

  const problems: Problem[] = [
    ...plan.kept.map((k) => keptEdited(target, k.note, k.provenance, 'before_rollback')),
    ...editedMeanwhile.map((d) => keptEdited(target, d.note, 'touched', 'during_rollback')),
  ];
  await recordProblems(
    deps,
    { cid: run.cid, companySsoId: run.company_sso_id, runId: run._id, kind: 'rollback', page: plan.page },
    problems,
  );
  return {
    outcome: {
      seen: plan.seen,
      migrated: 0,
      skipped: problems.length,
      failed: 0,
      outOfScope: 0,
      withWarnings: 0,
      problemsByReason: countByReason(problems),
      unaccountedIds: [],
      timings: { delete_ms, failure_log_ms: Math.round(performance.now() - started) - delete_ms },
    },
    pageTotals: {
      notes_deleted: deleted.length,
      notes_kept: problems.length,
      objects_deleted: objectKeys.length,
    },
  };
}

function keptEdited(
  target: RunDoc,
  note: StoredNoteDoc,
  provenance: Exclude<Provenance, 'untouched'>,
  when: 'before_rollback' | 'during_rollback',
): Problem {
  return {
    noteId: note.legacy_crm_note_id ?? note._id.toHexString(),
    reasonCode: 'ROLLBACK_KEPT_EDITED',
    details: {
      note_id: note._id.toHexString(),
      target_run_id: target._id,
      // `unknown`: the note carries no fingerprint, so an edit cannot be ruled out.
      provenance,
      edited: when,
    },
  };
}
