/**
 * Small response helpers for the fake CRM's node:http handlers: JSON answers, streaming chunks
 * with backpressure so a slow client never makes the server buffer a whole page or file, and the
 * signal that ends a wait when the client leaves.
 */
import type { ServerResponse } from 'node:http';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Resolves on `drain`, or when the response closes (client gone). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes every chunk, waiting for `drain` when the socket is full; stops if the client leaves. */
export async function streamChunks(res: ServerResponse, chunks: Iterable<string | Buffer>): Promise<number> {
  let bytes = 0;
  for (const chunk of chunks) {
    if (res.destroyed) return bytes;
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (!res.write(chunk)) await drainedOrClosed(res);
  }
  if (!res.destroyed) res.end();
  return bytes;
}

/** Waits `ms`, or less when the response closes or `signal` aborts; true when the full wait passed. */
export function waitUnlessClosed(res: ServerResponse, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (completed: boolean) => {
      clearTimeout(timer);
      res.off('close', onClose);
      signal.removeEventListener('abort', onClose);
      resolve(completed);
    };
    const onClose = () => finish(false);
    const timer = setTimeout(() => finish(true), ms);
    res.on('close', onClose);
    signal.addEventListener('abort', onClose, { once: true });
  });
}

/**
 * Aborts when the response closes (client gone or answer done) or the server stops. Hand-made:
 * `AbortSignal.any` with a long-lived input (the server's) leaks one entry per call (nodejs/node#55351).
 */
export function responseSignal(res: ServerResponse, stopping: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (stopping.aborted) abort();
  stopping.addEventListener('abort', abort, { once: true });
  res.once('close', () => {
    stopping.removeEventListener('abort', abort);
    abort();
  });
  return controller.signal;
}
