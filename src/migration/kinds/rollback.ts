/**
 * Run kind `rollback` (DESIGN.md §11.6): undoes exactly one run R (`target_run_id`). Pages R's
 * notes from CDP by `_id` cursor (deletes would shift page numbers), deletes the untouched ones
 * with a filter on every value read — a person's edit that lands in between wins — then their S3
 * objects; keeps and reports edited ones (`ROLLBACK_KEPT_EDITED`). Never reads CRM. Crash-safe:
 * each page files delete intents first, so objects and counts of notes deleted just before a
 * crash are finished by whoever claims the run next (`recoverIntents`).
 */
import { ObjectId } from 'mongodb';

import { noteIdOfCursor, type StoredNoteDoc } from '../../db/contact-notes-provenance.js';
import type { RollbackTotalsDoc, RunDoc } from '../../db/documents.js';
import type { Provenance } from '../note-fingerprint.js';
import type { Problem } from '../prepare-notes.js';
import { countByReason, recordProblems } from '../problem-log.js';
import { addRollbackTotals, NO_ROLLBACK_TOTALS, rollbackDecisionOf } from '../rollback-plan.js';
import type { PageOutcome, PageStep, RunKindDeps, RunKindModule, RunStepContext } from '../run-step.js';

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
 * Intents left by a worker that died (or a rollback of R that failed): notes already gone get
 * their objects deleted; those of this run's pages after its checkpoint are counted now, because
 * no checkpoint holds them. Intents stay until a later page's commit drops them, so a second
 * crash before that checkpoint recovers them again instead of losing the count.
 */
async function recoverIntents(
  deps: RunKindDeps,
  ctx: RunStepContext,
  target: RunDoc,
): Promise<RollbackTotalsDoc> {
  const intents = await deps.scratch.listDeleteIntents(target._id);
  if (intents.length === 0) return NO_ROLLBACK_TOTALS;
  const present = await deps.contactNotes.findPresentIds(intents.map((i) => new ObjectId(i.noteId)));
  const gone = intents.filter((i) => !present.has(i.noteId));
  await ctx.confirmLease();
  await deps.attachmentObjects.deleteObjects(
    gone.flatMap((i) => i.objectKeys),
    ctx.signal,
  );
  const uncounted = gone.filter((i) => i.writtenBy === ctx.run._id && i.page > ctx.run.checkpoint.page);
  ctx.log.info(
    { intents: intents.length, gone: gone.length, recounted: uncounted.length },
    'rollback recovered delete intents',
  );
  return {
    notes_deleted: uncounted.length,
    notes_kept: 0,
    objects_deleted: uncounted.reduce((n, i) => n + i.objectKeys.length, 0),
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
      return { ...outcome, runFields: { rollback: totals } };
    },
    haltAfter: () => null,
    async finish() {
      await ctx.confirmLease();
      await deps.runs.markRolledBack(target._id, run._id, deps.now());
      await deps.scratch.clear(target._id);
      ctx.log.info({ target_run_id: target._id, ...totals }, 'run rolled back');
      return { status: 'completed_success', runFields: { rollback: totals } };
    },
  };
}

/** Intents → lease check → optimistic delete → what is gone loses its objects; the rest is kept. */
async function deleteAndTally(
  deps: RunKindDeps,
  ctx: RunStepContext,
  target: RunDoc,
  plan: RollbackPlan,
): Promise<{ outcome: Omit<PageOutcome, 'runFields'>; pageTotals: RollbackTotalsDoc }> {
  const { run } = ctx;
  const started = performance.now();
  // Before any write: a worker paused past its lease must not touch the new owner's intents.
  await ctx.confirmLease();
  // Intents of earlier pages are covered by their checkpoints now.
  await deps.scratch.dropDeleteIntents(target._id, { writtenBy: run._id, fromPage: plan.page });
  const ids = plan.toDelete.map((d) => d.note._id);
  if (plan.toDelete.length > 0) {
    await deps.scratch.recordDeleteIntents(
      target._id,
      run._id,
      plan.page,
      plan.toDelete.map((d) => ({ noteId: d.note._id.toHexString(), objectKeys: d.objectKeys })),
      deps.now(),
    );
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
