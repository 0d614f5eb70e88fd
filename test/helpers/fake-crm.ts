/**
 * Starts the fake CRM for a test and registers it with the leak check, so a test that forgets
 * to stop it fails. `withFakeCrm` scopes one server to one callback.
 */
import { type FakeCrm, type FakeCrmOptions, startFakeCrm } from '../../src/crm/fake/fake-crm-server.js';
import { trackResource } from './leak-check.js';

export async function startTrackedFakeCrm(
  options: FakeCrmOptions,
  scope: 'test' | 'file' = 'test',
): Promise<FakeCrm> {
  const fake = await startFakeCrm(options);
  trackResource(
    `fake CRM at ${fake.url}`,
    () => fake.isListening(),
    () => fake.stop(),
    scope,
  );
  return fake;
}

export async function withFakeCrm<T>(options: FakeCrmOptions, fn: (fake: FakeCrm) => Promise<T>): Promise<T> {
  const fake = await startTrackedFakeCrm(options);
  try {
    return await fn(fake);
  } finally {
    await fake.stop();
  }
}

/** A sleeper that records the waits and returns at once (no real sleeps in tests). */
export function recordingSleeper() {
  const slept: number[] = [];
  return {
    slept,
    sleep: (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      return Promise.resolve();
    },
  };
}
