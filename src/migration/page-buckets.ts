/**
 * Which bucket each note of a committed page ends in (DESIGN.md §4): written (migrated or
 * skipped), failed, or — only through a bug — none; and which written notes kept a warning.
 * Shared by the kinds that turn CRM notes into CDP notes, so a forecast counts as a migration does.
 */
import { severityOf } from '../domain.js';
import type { PreparedNotes, Problem } from './prepare-notes.js';
import { countByReason } from './problem-log.js';
import type { PageOutcome } from './run-step.js';

export interface PageBucketsInput {
  prepared: PreparedNotes;
  problems: readonly Problem[];
  migrated: number;
  skipped: number;
  /** Ids that are (or would be) in CDP after the page: upserted, matched or skipped up front. */
  writtenIds: Iterable<string>;
  timings: Record<string, number>;
}

export function pageOutcomeOf(input: PageBucketsInput): PageOutcome {
  const { prepared, problems } = input;
  const written = new Set(input.writtenIds);
  const failedIds = new Set(problems.filter(isNoteFailure).map((p) => p.noteId));
  const warned = new Set(
    problems.filter((p) => !isNoteFailure(p) && written.has(p.noteId)).map((p) => p.noteId),
  );
  return {
    seen: prepared.seen,
    migrated: input.migrated,
    skipped: input.skipped,
    failed: failedIds.size,
    outOfScope: prepared.outOfScope,
    withWarnings: warned.size,
    problemsByReason: countByReason(problems),
    unaccountedIds: prepared.inScopeIds.filter((id) => !written.has(id) && !failedIds.has(id)),
    timings: input.timings,
  };
}

function isNoteFailure(p: Problem): boolean {
  return severityOf(p.reasonCode) === 'failure';
}
