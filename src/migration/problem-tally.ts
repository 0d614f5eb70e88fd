/**
 * A run's problems counted by reason code, with the first few note ids of each (#13): kept by the
 * kinds as a run field, checkpointed with the counters, so a halt or a forecast can name the
 * dominant cause and show examples. Pure.
 */
import type { ProblemTallyDoc } from '../db/documents.js';
import { DIAGNOSIS_SAMPLES_MAX } from './diagnose.js';
import type { Problem } from './prepare-notes.js';

export const EMPTY_PROBLEM_TALLY: Readonly<ProblemTallyDoc> = { by_reason: {}, samples: {} };

/** The tally with these problems added (a new object; `tally` is not changed). */
export function addProblems(tally: ProblemTallyDoc, problems: readonly Problem[]): ProblemTallyDoc {
  const by_reason = { ...tally.by_reason };
  const samples: ProblemTallyDoc['samples'] = {};
  for (const [code, ids] of Object.entries(tally.samples)) samples[code as Problem['reasonCode']] = [...ids];
  for (const p of problems) {
    by_reason[p.reasonCode] = (by_reason[p.reasonCode] ?? 0) + 1;
    const ids = (samples[p.reasonCode] ??= []);
    if (ids.length < DIAGNOSIS_SAMPLES_MAX && !ids.includes(p.noteId)) ids.push(p.noteId);
  }
  return { by_reason, samples };
}

/** The tally stored on a run, or an empty one (runs stored before #13). */
export function problemTallyOf(run: { problem_tally?: ProblemTallyDoc | undefined }): ProblemTallyDoc {
  return run.problem_tally ?? EMPTY_PROBLEM_TALLY;
}
