/**
 * The end-of-run step of kinds that write notes (DESIGN.md §4 "Validation"): CDP count of the
 * company's migrated notes ÷ in-scope CRM count = `match_pct`, the closure of `notes_total`, and
 * the terminal status. CRM unable to count → `VALIDATION_SKIPPED` and `completed_with_errors`.
 */
import type { RunCounters, RunDoc } from '../db/documents.js';
import { runKindOf } from '../domain.js';
import { toError } from '../errors.js';
import { decideRunOutcome } from './run-outcome.js';
import type { RunEnd, RunKindDeps } from './run-step.js';

export async function validateRun(
  deps: Pick<RunKindDeps, 'contactNotes' | 'extractor' | 'failures' | 'config' | 'logger' | 'now'>,
  run: RunDoc,
  counters: RunCounters,
  unaccountedIds: readonly string[],
  /** Notes a dry run would add: validation then predicts what a real run would find (#13). */
  options: { cdpNotesToAdd?: number } = {},
): Promise<RunEnd> {
  const log = deps.logger.child({ cid: run.cid, run_id: run._id });
  const cdpLegacyNotes =
    (await deps.contactNotes.countLegacyNotes(run.company_sso_id)) + (options.cdpNotesToAdd ?? 0);
  let sourceTotal: number | null = null;
  let sourceError: string | null = null;
  try {
    sourceTotal = (await deps.extractor.probeOrganization(run.cid)).total;
  } catch (e) {
    sourceError = toError(e).message;
  }
  const outcome = decideRunOutcome({
    cdpLegacyNotes,
    sourceTotal,
    counters,
    unaccountedIds,
    matchPctThreshold: deps.config.matchPctThreshold,
  });
  if (outcome.validationSkipped) {
    const details = {
      reason: 'CRM source count unavailable',
      error: sourceError,
      cdp_legacy_notes: cdpLegacyNotes,
    };
    await deps.failures.recordMany(
      [
        {
          cid: run.cid,
          companySsoId: run.company_sso_id,
          runId: run._id,
          kind: runKindOf(run),
          legacyCrmNoteId: null,
          reasonCode: 'VALIDATION_SKIPPED',
          details,
        },
      ],
      deps.now(),
    );
    log.warn({ legacy_crm_note_id: null, reason_code: 'VALIDATION_SKIPPED', details }, 'crm_note_problem');
  }
  if (!outcome.closure.balanced) log.warn({ closure: outcome.closure }, 'run closure does not balance');
  return {
    status: outcome.status,
    matchPct: outcome.matchPct,
    notesInScope: outcome.notesInScope,
    closure: outcome.closure,
  };
}
