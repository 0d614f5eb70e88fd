/**
 * A member's fields as its run says they are (#16): state, progress and, for a run that halted or
 * failed, its diagnosis — `halt_diagnosis` when the run has one (the dry-run issue #13 adds it),
 * else its halt reason or error. Pure: run in, member changes out.
 */
import type { RunDoc, WaveMemberDoc } from '../../db/documents.js';
import { isTerminalStatus } from '../../domain.js';

/** What a halted or failed run says about why (shown in the wave's pause and status). */
export function diagnosisOf(run: RunDoc): unknown {
  const stored = (run as RunDoc & { halt_diagnosis?: unknown }).halt_diagnosis;
  if (stored !== undefined && stored !== null) return stored;
  if (run.halt_reason) return { halt_reason: run.halt_reason, failure_rate: run.failure_rate };
  if (run.error) return { error: run.error.code, message: run.error.message };
  return null;
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
    next.diagnosis = run.status === 'halted' || run.status === 'failed' ? diagnosisOf(run) : null;
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
