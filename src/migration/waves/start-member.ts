/**
 * Starting one wave member through the same trigger as `POST /private/notes/migrate` (#16), at
 * most once per attempt: the run id is chosen and stored on the member (`starting`) before the
 * trigger runs, so a scheduler that takes over mid-start finds the run by that id, or triggers
 * again with the same id — and a run id can exist only once.
 */
import type { WaveMemberDoc } from '../../db/documents.js';
import type { ErrorCode } from '../../error-catalog.js';
import { AppError, toError } from '../../errors.js';
import type { TriggerRequest, TriggerResult } from '../trigger-migration.js';

/** A refused member is tried again after this long (CID busy, CRM unreachable, an unknown outcome). */
export const WAVE_RETRY_LATER_MS = 10_000;

/** Guards that refuse a member for good: it is `skipped` with the reason. */
const SKIP_CODES: ReadonlySet<ErrorCode> = new Set(['FLAG_DISABLED', 'ALREADY_MIGRATED', 'CID_NOT_FOUND']);
/** Guards that refuse before anything is written: the member waits and is tried again. */
const LATER_CODES: ReadonlySet<ErrorCode> = new Set(['JOB_ALREADY_RUNNING', 'CRM_UNAVAILABLE']);

export type StartOutcome =
  /** The run exists now: read it and take its state. */
  | { kind: 'started'; runId: string }
  | { kind: 'skipped'; changes: Partial<WaveMemberDoc> }
  /** Nothing was written: back to `pending` until `retry_at`. */
  | { kind: 'later'; changes: Partial<WaveMemberDoc> }
  /** The outcome is unknown (or the run is being created by another trigger with our id): stay `starting`. */
  | { kind: 'unknown'; changes: Partial<WaveMemberDoc> };

export type Trigger = (req: TriggerRequest, runId: string) => Promise<TriggerResult>;

/** Runs the trigger for a member already marked `starting` with `runId`; classifies what happened. */
export async function triggerMember(
  trigger: Trigger,
  member: WaveMemberDoc,
  request: Omit<TriggerRequest, 'cid' | 'companySsoId'>,
  runId: string,
  now: Date,
  retryLaterMs = WAVE_RETRY_LATER_MS,
): Promise<StartOutcome> {
  const retryAt = new Date(now.getTime() + retryLaterMs);
  try {
    await trigger({ ...request, cid: member.cid, companySsoId: member.company_sso_id }, runId);
    return { kind: 'started', runId };
  } catch (e) {
    const err = toError(e);
    const reason = { code: err instanceof AppError ? err.code : 'INTERNAL', message: err.message };
    if (err instanceof AppError && SKIP_CODES.has(err.code)) {
      return {
        kind: 'skipped',
        changes: { state: 'skipped', canary: false, run_id: null, reason, retry_at: null, finished_at: now },
      };
    }
    const ours = err instanceof AppError && err.details.run_id === runId;
    if (err instanceof AppError && LATER_CODES.has(err.code) && !ours) {
      // Not a canary any more: the canaries are the first members that get a run.
      return {
        kind: 'later',
        changes: { state: 'pending', canary: false, run_id: null, reason, retry_at: retryAt },
      };
    }
    return { kind: 'unknown', changes: { reason, retry_at: retryAt } };
  }
}
