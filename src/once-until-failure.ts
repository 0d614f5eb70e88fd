/**
 * A resource created on first use and shared by every later caller — unless creating it failed:
 * then the failure is forgotten and the next call tries again, so one bad moment (a database that
 * was not up yet) does not poison the process for good.
 */
export function onceUntilFailure<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}
