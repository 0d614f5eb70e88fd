/**
 * The failure log as a run writes it (DESIGN.md §5): one `migration_failures` record and one
 * `crm_note_problem` log line per (note, reason), tagged with the run's kind. Records are upserts
 * on (run, note, reason), so a replayed page adds nothing.
 */
import type { FailuresRepository, NewFailure } from '../db/failures-repository.js';
import type { RunKind } from '../domain.js';
import type { Logger } from '../logger.js';
import type { Problem } from './prepare-notes.js';

export interface ProblemLogScope {
  cid: string;
  companySsoId: string;
  runId: string;
  kind: RunKind;
  page: number;
}

export async function recordProblems(
  deps: { failures: Pick<FailuresRepository, 'recordMany'>; logger: Logger; now: () => Date },
  scope: ProblemLogScope,
  problems: readonly Problem[],
): Promise<void> {
  if (problems.length === 0) return;
  const log = deps.logger.child({ cid: scope.cid, run_id: scope.runId, page: scope.page });
  for (const p of problems) {
    log.warn(
      { legacy_crm_note_id: p.noteId, reason_code: p.reasonCode, details: p.details },
      'crm_note_problem',
    );
  }
  const records: NewFailure[] = problems.map((p) => ({
    cid: scope.cid,
    companySsoId: scope.companySsoId,
    runId: scope.runId,
    kind: scope.kind,
    legacyCrmNoteId: p.noteId,
    reasonCode: p.reasonCode,
    details: p.details,
  }));
  await deps.failures.recordMany(records, deps.now());
}

export function countByReason(problems: readonly Problem[]): Partial<Record<Problem['reasonCode'], number>> {
  const out: Partial<Record<Problem['reasonCode'], number>> = {};
  for (const p of problems) out[p.reasonCode] = (out[p.reasonCode] ?? 0) + 1;
  return out;
}
