/**
 * The fake CRM's concurrency cap (#15): `servedAtOnce` slots, a FIFO queue of `maxQueued` in
 * front of them, and an immediate refusal beyond. A request that leaves while queued gives its
 * place up; a slot is released exactly once.
 */

export type ReleaseSlot = () => void;

export interface FakeConcurrencyGate {
  /**
   * Null when the queue is full (refuse now). Otherwise resolves with the slot's release once one
   * is free, or with null if `signal` aborts first (the client left).
   */
  tryEnter(signal: AbortSignal): Promise<ReleaseSlot | null> | null;
  readonly serving: number;
  readonly queued: number;
}

export function createFakeConcurrencyGate(
  servedAtOnce: number,
  maxQueued: number,
  onChange: (serving: number, queued: number) => void,
): FakeConcurrencyGate {
  let serving = 0;
  const queue: Array<() => void> = [];

  const slot = (): ReleaseSlot => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.shift();
      // The slot passes straight to the next in line, so `serving` never dips between them.
      if (next) next();
      else serving--;
      onChange(serving, queue.length);
    };
  };

  return {
    tryEnter(signal) {
      if (serving < servedAtOnce) {
        serving++;
        onChange(serving, queue.length);
        return Promise.resolve(slot());
      }
      if (queue.length >= maxQueued) return null;
      return new Promise((resolve) => {
        const grant = () => {
          signal.removeEventListener('abort', leave);
          resolve(slot());
        };
        const leave = () => {
          const at = queue.indexOf(grant);
          if (at >= 0) queue.splice(at, 1);
          onChange(serving, queue.length);
          resolve(null);
        };
        if (signal.aborted) return resolve(null);
        signal.addEventListener('abort', leave, { once: true });
        queue.push(grant);
        onChange(serving, queue.length);
      });
    },
    get serving() {
      return serving;
    },
    get queued() {
      return queue.length;
    },
  };
}
