/**
 * The CRM request pacer (#15, #16): one object per CRM budget that every request of an extractor
 * asks before each attempt and tells about each answer, so a 429 pauses them all once instead of
 * k in-flight requests retrying on k schedules. This file holds the interface and the in-process
 * default; #16 plugs a MongoDB-backed budget shared by every worker into the same interface.
 */
import { toError } from '../errors.js';
import { realSleep, type Sleeper } from './crm-retry.js';

/** What the pacer may want to know about a request (a shared budget shares it fairly by CID). */
export interface CrmRequestContext {
  cid: string;
  /** `page`: a run's notes page; `probe`: the trigger route's one-note probe. */
  kind: 'page' | 'probe';
}

/**
 * Contract, for every implementation:
 * - `acquire` is awaited before every attempt (first tries and retries alike). It resolves when
 *   the attempt may go out and rejects with the signal's reason when `signal` aborts; it must not
 *   throw otherwise (a pacer that cannot reach its store lets the request go: CRM still limits).
 * - Exactly one of `onRateLimited` / `onSuccess` follows an attempt that got a 429 / a 2xx. Other
 *   answers (timeouts, 5xx, 4xx) report neither; the caller's retry schedule handles them.
 * - `onRateLimited(ms)` gets the `Retry-After` already cut to the caller's cap, or null when the
 *   429 had none. After `onRateLimited(ms)` the caller does not sleep on its own: its next
 *   `acquire` waits the pause out. After `onRateLimited(null)` the caller keeps its own backoff.
 * - Neither callback throws or blocks.
 */
export interface CrmRequestPacer {
  acquire(context: CrmRequestContext, signal?: AbortSignal): Promise<void>;
  onRateLimited(retryAfterMs: number | null): void;
  onSuccess(): void;
}

/** A pause, as the in-process pacer reports it (logs, metrics, tests). */
export interface CrmPauseEvent {
  /** `started`: nobody was paused; `extended`: a later 429 asked for a later end. */
  kind: 'started' | 'extended';
  /** How much this event adds, ms. */
  addedMs: number;
}

export interface InProcessCrmPacer extends CrmRequestPacer {
  /** True while a pause is in force. */
  isPaused(): boolean;
  /** Pauses started and extended since creation. */
  readonly pauses: { started: number; extended: number };
}

export interface InProcessCrmPacerDeps {
  /** Waits a pause; tests inject one that never really waits. Default: a real timer. */
  sleep?: Sleeper;
  /** Clock used only to compare the ends of overlapping pauses. Default `Date.now`. */
  nowMs?: () => number;
  onPause?: (event: CrmPauseEvent) => void;
}

interface Pause {
  /** Resolves when the pause ends or is cancelled; never rejects. */
  done: Promise<void>;
  endsAtMs: number;
  waiters: number;
  cancel: AbortController;
}

/**
 * The default pacer: no spacing, only a shared pause. A 429 with `Retry-After: s` starts one timer
 * of s seconds that every later `acquire` of the extractor waits on (so one timer, not k). A 429
 * that asks for a later end while paused extends the same pause by the difference. A 429 without
 * `Retry-After` pauses nobody (the request backs off on its own schedule). If every waiter of a
 * pause aborts, the timer is cancelled (so a shutdown is not held up) and the next `acquire`
 * re-arms it for what is left.
 */
export function createInProcessCrmPacer(deps: InProcessCrmPacerDeps = {}): InProcessCrmPacer {
  const sleep = deps.sleep ?? realSleep;
  const nowMs = deps.nowMs ?? Date.now;
  const pauses = { started: 0, extended: 0 };
  let current: Pause | null = null;
  /** The end of a pause whose timer was cancelled with no waiter left. */
  let orphanedEndMs = 0;

  /** Sleeps `ms` on the pause's own signal; a cancelled sleep just ends early. */
  const wait = (pause: Pause, ms: number) =>
    pause.cancel.signal.aborted
      ? Promise.resolve()
      : sleep(ms, pause.cancel.signal).then(
          () => undefined,
          () => undefined,
        );

  /** Makes `done` the pause's end; the pause is over once the last link of the chain resolves. */
  function setDone(pause: Pause, done: Promise<void>): void {
    pause.done = done;
    void done.then(() => {
      if (current === pause && pause.done === done) current = null;
    });
  }

  function arm(ms: number, endsAtMs: number): void {
    const pause: Pause = { endsAtMs, waiters: 0, cancel: new AbortController(), done: Promise.resolve() };
    current = pause;
    setDone(pause, wait(pause, ms));
  }

  function extend(pause: Pause, endsAtMs: number): void {
    const addedMs = endsAtMs - pause.endsAtMs;
    pause.endsAtMs = endsAtMs;
    setDone(
      pause,
      pause.done.then(() => wait(pause, addedMs)),
    );
    pauses.extended++;
    deps.onPause?.({ kind: 'extended', addedMs });
  }

  function release(pause: Pause): void {
    pause.waiters--;
    if (pause.waiters > 0 || current !== pause) return;
    orphanedEndMs = Math.max(orphanedEndMs, pause.endsAtMs);
    current = null;
    pause.cancel.abort();
  }

  return {
    pauses,
    isPaused: () => current !== null || orphanedEndMs > nowMs(),

    async acquire(_context, signal) {
      signal?.throwIfAborted();
      if (!current && orphanedEndMs > 0) {
        const leftMs = orphanedEndMs - nowMs();
        orphanedEndMs = 0;
        if (leftMs > 0) arm(leftMs, nowMs() + leftMs);
      }
      const pause = current;
      if (!pause) return;
      pause.waiters++;
      try {
        // An extension while waiting replaces `done`: wait for the new end too.
        for (let seen: Promise<void> | undefined; seen !== pause.done;) {
          seen = pause.done;
          await untilAborted(seen, signal);
        }
      } finally {
        release(pause);
      }
    },

    onRateLimited(retryAfterMs) {
      if (retryAfterMs === null) return;
      const ms = Math.max(0, retryAfterMs);
      const endsAtMs = nowMs() + ms;
      if (current) {
        if (endsAtMs > current.endsAtMs) extend(current, endsAtMs);
        return;
      }
      arm(ms, endsAtMs);
      pauses.started++;
      deps.onPause?.({ kind: 'started', addedMs: ms });
    },

    onSuccess() {
      // Nothing to learn without a rate to adapt; the MongoDB budget (#16) raises its rate here.
    },
  };
}

/** Resolves with `done` (which never rejects), or rejects with the signal's reason once it aborts. */
function untilAborted(done: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return done;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(toError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    void done.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
