/**
 * Fetches one attachment into memory, safely: every hop vetted (redirects are followed by hand, at
 * most `maxRedirects`), every connection pinned to the vetted addresses, one total time limit, and
 * a byte cap counted on the stream itself (a missing or lying Content-Length changes nothing).
 * Problems come back as data; only the caller's own abort is thrown.
 */
import type { Readable } from 'node:stream';

import { request } from 'undici';

import type { AttachmentProblemCode } from '../domain.js';
import { toError } from '../errors.js';
import { createPinnedDispatcher } from './pinned-dispatcher.js';
import { type BlockReason } from './ssrf-guard.js';
import { type UrlVetter } from './url-vetter.js';

export interface DownloaderOptions {
  vetter: UrlVetter;
  /** Hard cap on body bytes (MAX_ATTACHMENT_BYTES). */
  maxBytes: number;
  /** Time limit for the whole download, every hop and the body included (ATTACHMENT_TIMEOUT_MS). */
  timeoutMs: number;
  /** Redirect hops followed, each re-vetted (ATTACHMENT_MAX_REDIRECTS). */
  maxRedirects: number;
}

export type DownloadOutcome =
  | { ok: true; bytes: Buffer; contentType: string | null; redirects: number }
  | {
      ok: false;
      reasonCode: AttachmentProblemCode;
      message: string;
      /** Set when the SSRF guard refused the URL or a redirect target. */
      blockReason?: BlockReason;
    };

export interface Downloader {
  /** Rejects only when `signal` (the caller's cancellation) aborts; every other problem is data. */
  download(url: string, signal?: AbortSignal): Promise<DownloadOutcome>;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type Failed = Extract<DownloadOutcome, { ok: false }>;

function fail(reasonCode: AttachmentProblemCode, message: string, blockReason?: BlockReason): Failed {
  return blockReason ? { ok: false, reasonCode, message, blockReason } : { ok: false, reasonCode, message };
}

export function createDownloader(options: DownloaderOptions): Downloader {
  const connectTimeoutMs = Math.min(10_000, options.timeoutMs);

  return {
    async download(url, callerSignal) {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
      let current = url;
      for (let redirects = 0; ; redirects += 1) {
        const verdict = await options.vetter.vet(current);
        if (!verdict.ok) {
          const where = redirects === 0 ? 'URL' : `redirect target (hop ${redirects})`;
          return fail(
            'ATTACHMENT_SSRF_BLOCKED',
            `blocked ${where}: ${verdict.reason} (${verdict.detail})`,
            verdict.reason,
          );
        }
        const { host, addresses } = verdict.target;
        const dispatcher = createPinnedDispatcher({ host, addresses, connectTimeoutMs });
        try {
          const hop = await fetchHop(current, dispatcher, signal, options.maxBytes);
          if (hop.kind === 'done') return hop.outcome.ok ? { ...hop.outcome, redirects } : hop.outcome;
          if (redirects >= options.maxRedirects) {
            return fail(
              'ATTACHMENT_DOWNLOAD_FAILED',
              `too many redirects: more than ATTACHMENT_MAX_REDIRECTS (${options.maxRedirects})`,
            );
          }
          current = new URL(hop.location, current).href;
        } catch (e) {
          if (callerSignal?.aborted) throw toError(callerSignal.reason);
          if (timeout.aborted) {
            return fail('ATTACHMENT_DOWNLOAD_FAILED', `timed out after ${options.timeoutMs} ms`);
          }
          const err = toError(e);
          const code = (err as { code?: unknown }).code;
          return fail(
            'ATTACHMENT_DOWNLOAD_FAILED',
            `request failed: ${typeof code === 'string' ? `${code} ` : ''}${err.message}`,
          );
        } finally {
          await dispatcher.destroy().catch(() => undefined);
        }
      }
    },
  };
}

type HopResult = { kind: 'done'; outcome: DownloadOutcome } | { kind: 'redirect'; location: string };

/** One request: a redirect to follow, or the final outcome. Throws on transport errors. */
async function fetchHop(
  url: string,
  dispatcher: ReturnType<typeof createPinnedDispatcher>,
  signal: AbortSignal,
  maxBytes: number,
): Promise<HopResult> {
  const res = await request(url, {
    method: 'GET',
    dispatcher,
    signal,
    // No Accept-Encoding: bodies arrive as stored, so the cap counts real bytes (no zip bombs).
    headers: { accept: '*/*', 'user-agent': 'crm-notes-migrator' },
  });
  if (REDIRECT_STATUSES.has(res.statusCode)) {
    discard(res.body);
    const location = headerValue(res.headers.location);
    if (!location) {
      return {
        kind: 'done',
        outcome: fail('ATTACHMENT_DOWNLOAD_FAILED', `HTTP ${res.statusCode} without Location`),
      };
    }
    return { kind: 'redirect', location };
  }
  if (res.statusCode !== 200) {
    discard(res.body);
    return { kind: 'done', outcome: fail('ATTACHMENT_DOWNLOAD_FAILED', `HTTP ${res.statusCode}`) };
  }
  const declared = Number(headerValue(res.headers['content-length']) ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(res.body);
    return { kind: 'done', outcome: tooLarge(maxBytes, `Content-Length says ${declared}`) };
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of res.body) {
    const buf = chunk as Buffer;
    received += buf.length;
    if (received > maxBytes) {
      // Stop reading at once: the rest of the body never enters memory.
      discard(res.body);
      return { kind: 'done', outcome: tooLarge(maxBytes, `more than ${maxBytes} bytes arrived`) };
    }
    chunks.push(buf);
  }
  return {
    kind: 'done',
    outcome: {
      ok: true,
      bytes: Buffer.concat(chunks, received),
      contentType: headerValue(res.headers['content-type']) ?? null,
      redirects: 0,
    },
  };
}

function tooLarge(maxBytes: number, what: string): Failed {
  return fail('ATTACHMENT_TOO_LARGE', `over MAX_ATTACHMENT_BYTES (${maxBytes}): ${what}`);
}

/**
 * Drops a body we will not read. undici's body emits an AbortError when destroyed; nobody else is
 * listening, so swallow it here rather than let it escape as an uncaught exception.
 */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
