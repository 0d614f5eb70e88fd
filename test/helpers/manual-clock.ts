/**
 * A clock tests move by hand, shared by the fake CRM (`FakeCrmClock`) and the CRM client's
 * sleeper/pacer, so multi-second latencies and 10 s rate windows pass in no real time. Sleeps wait
 * until `advance` reaches their deadline; `jumpOnSleep` makes every sleep move the clock itself.
 */
import type { FakeCrmClock } from '../../src/crm/fake/fake-crm-clock.js';

interface Sleeper {
  atMs: number;
  ms: number;
  wake: (completed: boolean) => void;
}

export interface ManualClock extends FakeCrmClock {
  /** Every sleep asked for, in order, in ms. */
  readonly requested: number[];
  /** Sleeps not yet over. */
  pending(): number;
  /** Moves the clock forward and wakes every sleep that is due, earliest first. */
  advance(ms: number): void;
  /** Moves the clock to the earliest pending deadline (if any) and wakes what is due. */
  advanceToNext(): void;
  /** The client-side `Sleeper` shape: rejects with the signal's reason when aborted. */
  clientSleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function createManualClock(options: { startMs?: number; jumpOnSleep?: boolean } = {}): ManualClock {
  let now = options.startMs ?? 0;
  const requested: number[] = [];
  const sleepers: Sleeper[] = [];

  const wakeDue = () => {
    sleepers.sort((a, b) => a.atMs - b.atMs);
    while (sleepers[0] && sleepers[0].atMs <= now) sleepers.shift()?.wake(true);
  };

  const sleep = (ms: number, signal?: AbortSignal): Promise<boolean> => {
    requested.push(ms);
    if (signal?.aborted) return Promise.resolve(false);
    if (options.jumpOnSleep) now = Math.max(now, now + ms);
    if (ms <= 0 || options.jumpOnSleep) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry: Sleeper = {
        atMs: now + ms,
        ms,
        wake: (completed) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(completed);
        },
      };
      const onAbort = () => {
        const at = sleepers.indexOf(entry);
        if (at >= 0) sleepers.splice(at, 1);
        entry.wake(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      sleepers.push(entry);
    });
  };

  return {
    requested,
    nowMs: () => now,
    sleep: (ms, signal) => sleep(ms, signal),
    pending: () => sleepers.length,
    advance(ms) {
      now += ms;
      wakeDue();
    },
    advanceToNext() {
      const next = Math.min(...sleepers.map((x) => x.atMs));
      if (Number.isFinite(next)) now = Math.max(now, next);
      wakeDue();
    },
    async clientSleep(ms, signal) {
      if (!(await sleep(ms, signal))) throw signal?.reason ?? new Error('aborted');
    },
  };
}
