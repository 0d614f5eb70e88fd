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

export function isTransientMongoError(e: unknown): boolean {
  if (e instanceof MongoNetworkError || e instanceof MongoServerSelectionError) return true;
  if (!(e instanceof MongoError)) return false;
  if (TRANSIENT_LABELS.some((label) => e.hasErrorLabel(label))) return true;
  return typeof e.code === 'number' && TRANSIENT_CODES.has(e.code);
}
