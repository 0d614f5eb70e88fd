/**
 * A member's fields as its run says they are (#16): state, progress and, for a run that halted or
 * failed (or a dry run that says a real run would halt), why — its diagnosis (#13), halt reason,
 * error. Pure: run in, member changes out.
 */
import type { RunDoc, WaveMemberDiagnosisDoc, WaveMemberDoc } from '../../db/documents.js';
import { isTerminalStatus } from '../../domain.js';

/** Why a finished run stopped, or where a finished dry run says a real one would; null when neither. */
export function diagnosisOf(run: RunDoc): WaveMemberDiagnosisDoc | null {
  if (run.status === 'halted' || run.status === 'failed') {
    return {
      cause: run.halt_diagnosis ?? null,
      halt_reason: run.halt_reason,
      failure_rate: run.failure_rate,
      error: run.error,
      would_halt: null,
    };
  }
  const wouldHalt = isTerminalStatus(run.status) ? (run.forecast?.would_halt ?? null) : null;
  if (!wouldHalt) return null;
  return {
    cause: wouldHalt.diagnosis,
    halt_reason: null,
    failure_rate: wouldHalt.failure_rate,
    error: null,
    would_halt: { page: wouldHalt.page, trigger: wouldHalt.trigger, reason: wouldHalt.reason },
  };
}

/** The member's changes for its run's current state; empty when nothing changed. */
export function memberChangesFromRun(member: WaveMemberDoc, run: RunDoc): Partial<WaveMemberDoc> {
  const next: Partial<WaveMemberDoc> = {
    progress_pct: run.progress_pct,
    notes_processed: run.notes_processed,
    notes_total: run.notes_total,
  };
  if (member.state === 'starting') {
    // The run exists: the start has happened (whoever finished it), once.
    next.state = 'running';
    next.run_ids = member.run_ids.includes(run._id) ? member.run_ids : [...member.run_ids, run._id];
    next.attempts = member.attempts + 1;
    next.reason = null;
    next.retry_at = null;
    next.started_at = run.created_at;
  }
  if (isTerminalStatus(run.status)) {
    next.state = run.status;
    next.finished_at = run.finished_at ?? run.updated_at;
    next.notes_per_s = null;
    next.diagnosis = diagnosisOf(run);
  }
  return changedOnly(member, next);
}

/** Keeps only the fields whose value differs (compared as JSON: dates and nested values included). */
export function changedOnly(member: WaveMemberDoc, next: Partial<WaveMemberDoc>): Partial<WaveMemberDoc> {
  const changed: Partial<WaveMemberDoc> = {};
  for (const key of Object.keys(next) as (keyof WaveMemberDoc)[]) {
    if (JSON.stringify(next[key]) !== JSON.stringify(member[key]))
      Object.assign(changed, { [key]: next[key] });
  }
  return changed;
}
