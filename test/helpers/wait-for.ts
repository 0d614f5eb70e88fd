/** Awaits a state instead of sleeping a fixed time (STYLE.md "Tests"). */
export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Names the state in the timeout message. */
  what?: string;
}

export async function waitFor<T>(
  read: () => Promise<T> | T,
  until: (value: T) => boolean,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (until(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `waitFor: ${options.what ?? 'condition'} not reached within ${timeoutMs}ms; last value: ${safeJson(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 500) ?? String(v);
  } catch {
    return String(v);
  }
}
