/**
 * One GET to the CRM with a hard deadline covering headers and body, so a CRM that stalls can
 * never hang a run (the breakdown's complaint about the old no-timeout client, Task 2.3).
 * Transport problems come back as data for the retry loop; only the caller's abort and our own
 * programming errors are thrown.
 */
import { type Dispatcher, errors, request } from 'undici';

import { toError } from '../errors.js';

export type CrmTransportFailureReason = 'timeout' | 'connection_error';

export type CrmAttemptOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; body: string }
  | { kind: 'transport_failure'; reason: CrmTransportFailureReason; error: Error };

export interface CrmGetOptions {
  /** Sent verbatim as `Authorization`; omitted when undefined. */
  auth: string | undefined;
  /** Deadline for the whole exchange: connect, headers and body. */
  timeoutMs: number;
  dispatcher?: Dispatcher;
  /** The caller's cancellation; aborting it rejects with its reason (no retry). */
  signal?: AbortSignal;
}

/** Errors that are our own bug, not the network's: retrying cannot help. */
const NON_TRANSPORT_ERRORS = [errors.InvalidArgumentError, errors.NotSupportedError];

export async function sendCrmGet(url: URL, options: CrmGetOptions): Promise<CrmAttemptOutcome> {
  options.signal?.throwIfAborted();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`CRM request exceeded ${options.timeoutMs}ms`));
  }, options.timeoutMs);
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.auth !== undefined) headers.authorization = options.auth;
    const response = await request(url, {
      method: 'GET',
      headers,
      signal: controller.signal,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    // Read the body inside the same deadline: a CRM that sends headers then stalls is a timeout too.
    const body = await response.body.text();
    return { kind: 'response', status: response.statusCode, headers: response.headers, body };
  } catch (e) {
    if (options.signal?.aborted) throw toError(options.signal.reason);
    if (timedOut) return { kind: 'transport_failure', reason: 'timeout', error: toError(e) };
    if (NON_TRANSPORT_ERRORS.some((type) => e instanceof type)) throw toError(e);
    // Refused, reset, closed mid-body, DNS, TLS: all look the same to us and may pass on a retry.
    return { kind: 'transport_failure', reason: 'connection_error', error: toError(e) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** A header's single value (undici gives arrays for repeated headers). */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string) {
  const v = Object.hasOwn(headers, name) ? headers[name] : undefined;
  return Array.isArray(v) ? v[0] : v;
}
