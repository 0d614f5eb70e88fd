/**
 * The one place that reads MongoDB driver error codes and labels. Higher layers ask
 * "already written?" or "worth retrying?", never `e.code === 11000`.
 */
import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';

/** Duplicate key: the document (or the lock, or the failure record) already exists. */
const DUPLICATE_KEY_CODES = new Set([11000, 11001]);

/** Labels the server and driver put on errors a retry can fix. */
const TRANSIENT_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'ResetPool'] as const;

/** Server codes worth a retry even without a label (elections, stepdowns, interrupted ops). */
const TRANSIENT_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

export function isDuplicateKeyError(e: unknown): boolean {
  return e instanceof MongoError && typeof e.code === 'number' && DUPLICATE_KEY_CODES.has(e.code);
}

export function isDuplicateKeyCode(code: unknown): boolean {
  return typeof code === 'number' && DUPLICATE_KEY_CODES.has(code);
}

export function isTransientMongoError(e: unknown): boolean {
  if (e instanceof MongoNetworkError || e instanceof MongoServerSelectionError) return true;
  if (!(e instanceof MongoError)) return false;
  if (TRANSIENT_LABELS.some((label) => e.hasErrorLabel(label))) return true;
  return typeof e.code === 'number' && TRANSIENT_CODES.has(e.code);
}

export interface TransientRetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Runs `fn`, retrying transient MongoDB errors with capped, jittered exponential backoff. */
export async function withTransientRetry<T>(
  fn: () => Promise<T>,
  options: TransientRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= attempts || !isTransientMongoError(e)) throw e;
      // Full jitter: spreads retries of many workers hitting the same election.
      await sleep(Math.round(random() * Math.min(max, base * 2 ** (attempt - 1))));
    }
  }
}
