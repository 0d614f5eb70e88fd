/**
 * The fake CRM's sense of time, injectable so tests of multi-second latencies and 10 s rate
 * windows run at once (test/helpers/manual-clock.ts). Only differences of `nowMs()` matter.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

export interface FakeCrmClock {
  /** Monotonic milliseconds. */
  nowMs(): number;
  /** Waits `ms`; resolves true when the wait passed, false as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<boolean>;
}

export const REAL_FAKE_CRM_CLOCK: FakeCrmClock = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) =>
    sleepTimer(ms, true, { signal }).catch(() => {
      // Aborted: the client left or the server stops.
      return false;
    }),
};
