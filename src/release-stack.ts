/**
 * Cleanup in reverse order of creation (STYLE.md "Configuration and lifecycle"): every resource
 * registers its release when it is created; `release()` runs them all last-in-first-out, even
 * when one fails, then throws the first error. Concurrent calls share one release.
 */
import { toError } from './errors.js';

export interface ReleaseStack {
  /** Registers a cleanup; returns the value passed in, for one-line use. */
  defer(label: string, release: () => Promise<void> | void): void;
  release(): Promise<void>;
  readonly released: boolean;
}

export function createReleaseStack(
  onError?: (label: string, error: Error) => void,
  onReleased?: (label: string, ms: number) => void,
): ReleaseStack {
  const entries: { label: string; release: () => Promise<void> | void }[] = [];
  let releasing: Promise<void> | undefined;
  return {
    defer(label, release) {
      if (releasing) throw new Error(`cannot register '${label}': the release stack is already releasing`);
      entries.push({ label, release });
    },
    release() {
      releasing ??= (async () => {
        let first: Error | undefined;
        while (entries.length > 0) {
          const entry = entries.pop();
          if (!entry) break;
          const started = Date.now();
          try {
            await entry.release();
            onReleased?.(entry.label, Date.now() - started);
          } catch (e) {
            const err = toError(e);
            onError?.(entry.label, err);
            first ??= new Error(`release of '${entry.label}' failed: ${err.message}`, { cause: err });
          }
        }
        if (first) throw first;
      })();
      return releasing;
    },
    get released() {
      return releasing !== undefined;
    },
  };
}
