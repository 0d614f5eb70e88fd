/**
 * `CrmNotesExtractor` over HTTP (undici), for the contract of DESIGN.md §7. Owns the mapping of
 * CRM answers to outcomes; the retry schedule is `crm-retry.ts`, one request is `crm-http-attempt.ts`.
 *
 * | CRM answer                           | outcome                                               |
 * |--------------------------------------|-------------------------------------------------------|
 * | 2xx, valid envelope                  | the page; each note validated on its own               |
 * | 2xx, body is not JSON                | retried (a truncated or garbled transfer looks so)     |
 * | 2xx, JSON that breaks the envelope   | `CRM_PAYLOAD_INVALID`, not retried (same bytes again)  |
 * | timeout, connection error, 5xx, 423, 429 | retried (Retry-After honoured up to the cap)       |
 * | 404                                  | `CID_NOT_FOUND`                                        |
 * | any other status                     | `CRM_REQUEST_REJECTED`, not retried                    |
 * | retries used up                      | `CRM_EXTRACT_FAILED` (page) / `CRM_UNAVAILABLE` (probe) |
 *
 * Every attempt of every request first asks the extractor's pacer (`crm-request-pacer.ts`): a 429
 * with `Retry-After` pauses all of them once (#15), instead of each retrying on its own schedule.
 */
import type { Dispatcher } from 'undici';

import { UpstreamError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { headerValue, sendCrmGet } from './crm-http-attempt.js';
import { CRM_MAX_PAGE_SIZE, type CrmNotesExtractor, type CrmNotesPage } from './crm-notes-extractor.js';
import { parseCrmNote, parsePersonNotesEnvelope, type PersonNotesEnvelope } from './crm-payload.js';
import { createInProcessCrmPacer, type CrmRequestPacer } from './crm-request-pacer.js';
import {
  type AttemptResult,
  DEFAULT_CRM_RETRY_DELAYS_MS,
  realSleep,
  type RetryInfo,
  type RetryPolicy,
  runWithRetries,
  type Sleeper,
} from './crm-retry.js';
import { tryParseRetryAfterMs } from './retry-after.js';

/** The trigger route answers a person waiting on a request: two quick retries, not 13 s of backoff. */
export const DEFAULT_PROBE_RETRY_DELAYS_MS: readonly number[] = [250, 750];
/** The probe never waits longer than this for a `Retry-After`. */
const PROBE_MAX_RETRY_AFTER_MS = 2_000;
/** How much of an error body goes into a rejection message. */
const ERROR_BODY_SNIPPET_CHARS = 300;

export interface HttpCrmNotesExtractorDeps {
  /** `CRM_API_ROOT_URL`; a path prefix is kept (`https://crm.example/api`). */
  rootUrl: string;
  /** `CRM_API_AUTH`, sent verbatim as `Authorization` on every request. */
  auth: string | undefined;
  /** `CRM_NOTES_EXTRACT_TIMEOUT`: deadline per request (headers and body), in ms. */
  timeoutMs: number;
  /** `CRM_MAX_RETRY_AFTER_MS`: the longest `Retry-After` honoured. */
  maxRetryAfterMs: number;
  /** Waits between page attempts; default 1000, 3000, 9000 ms (4 attempts). */
  retryDelaysMs?: readonly number[];
  /** Waits between probe attempts; default 250, 750 ms. */
  probeRetryDelaysMs?: readonly number[];
  /** Injected so tests observe the schedule without waiting. */
  sleep?: Sleeper;
  /** Clock for `Retry-After` HTTP-dates. */
  now?: () => Date;
  logger: Logger;
  /** Called before each retry wait (metrics, tests). */
  onRetry?: (info: RetryInfo) => void;
  /** undici dispatcher; defaults to undici's global agent. */
  dispatcher?: Dispatcher;
  /**
   * Paces every attempt of this extractor; shared by its concurrent requests. Default: an
   * in-process pacer (one shared pause per 429 with `Retry-After`) on `sleep` and `now`. Null:
   * none, each request waits out its own `Retry-After` (the behaviour before #15).
   */
  pacer?: CrmRequestPacer | null;
}

export function createHttpCrmNotesExtractor(deps: HttpCrmNotesExtractorDeps): CrmNotesExtractor {
  const root = parseRootUrl(deps.rootUrl);
  const sleep = deps.sleep ?? realSleep;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ component: 'crm_client' });
  const pacer =
    deps.pacer === undefined
      ? createInProcessCrmPacer({
          ...(deps.sleep ? { sleep: deps.sleep } : {}),
          nowMs: () => now().getTime(),
          onPause: (event) => log.warn({ kind: event.kind, added_ms: event.addedMs }, 'crm_rate_limit_pause'),
        })
      : deps.pacer;
  const pagePolicy: RetryPolicy = {
    delaysMs: deps.retryDelaysMs ?? DEFAULT_CRM_RETRY_DELAYS_MS,
    maxRetryAfterMs: deps.maxRetryAfterMs,
  };
  const probePolicy: RetryPolicy = {
    delaysMs: deps.probeRetryDelaysMs ?? DEFAULT_PROBE_RETRY_DELAYS_MS,
    maxRetryAfterMs: Math.min(deps.maxRetryAfterMs, PROBE_MAX_RETRY_AFTER_MS),
  };

  function pageUrl(cid: string, page: number, perPage: number): URL {
    const url = new URL(`${root}/v1/organizations/${encodeURIComponent(cid)}/person_notes`);
    url.searchParams.set('page', String(page));
    url.searchParams.set('per_page', String(perPage));
    return url;
  }

  /** One attempt: an envelope, a retryable failure, or a thrown `UpstreamError`. */
  async function attemptPage(
    cid: string,
    page: number,
    url: URL,
    signal: AbortSignal | undefined,
  ): Promise<AttemptResult<PersonNotesEnvelope>> {
    const outcome = await sendCrmGet(url, {
      auth: deps.auth,
      timeoutMs: deps.timeoutMs,
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      ...(signal ? { signal } : {}),
    });
    if (outcome.kind === 'transport_failure') {
      return {
        ok: false,
        failure: { status: null, reason: outcome.reason, retryAfterMs: null },
      };
    }
    const { status } = outcome;
    if (status >= 200 && status < 300) {
      let json: unknown;
      try {
        json = JSON.parse(outcome.body);
      } catch {
        return { ok: false, failure: { status, reason: 'invalid_json', retryAfterMs: null } };
      }
      const parsed = parsePersonNotesEnvelope(json, page);
      if (!parsed.ok) {
        throw new UpstreamError(
          'CRM_PAYLOAD_INVALID',
          `CRM answered page ${page} of CID ${cid} with an envelope that breaks the contract (${parsed.issues[0]?.path}: ${parsed.issues[0]?.message}); the page cannot be read, see details.issues`,
          { details: { cid, page, status, issues: parsed.issues } },
        );
      }
      return { ok: true, value: parsed.envelope };
    }
    if (status === 404) {
      throw new UpstreamError('CID_NOT_FOUND', `CRM does not know CID ${cid} (404 from ${url.pathname})`, {
        details: { cid },
      });
    }
    if (status === 423 || status === 429 || status >= 500) {
      const retryAfterMs = tryParseRetryAfterMs(headerValue(outcome.headers, 'retry-after'), now());
      return { ok: false, failure: { status, reason: `http_${status}`, retryAfterMs } };
    }
    throw new UpstreamError(
      'CRM_REQUEST_REJECTED',
      `CRM rejected ${url.pathname}${url.search} with ${status}${status === 401 || status === 403 ? ' (check CRM_API_AUTH)' : ''}: ${outcome.body.slice(0, ERROR_BODY_SNIPPET_CHARS)}`,
      { details: { cid, page, status } },
    );
  }

  async function fetchEnvelope(
    cid: string,
    page: number,
    perPage: number,
    policy: RetryPolicy,
    signal: AbortSignal | undefined,
  ) {
    const url = pageUrl(cid, page, perPage);
    const kind = policy === probePolicy ? ('probe' as const) : ('page' as const);
    return runWithRetries((_n) => attemptPage(cid, page, url, signal), policy, {
      sleep,
      ...(signal ? { signal } : {}),
      ...(pacer ? { pacer: { pacer, context: { cid, kind } } } : {}),
      onRetry: (info) => {
        log.warn(
          {
            cid,
            page,
            attempt: info.attempt,
            status: info.status,
            reason: info.reason,
            delay_ms: info.delayMs,
          },
          'crm_request_retry',
        );
        deps.onRetry?.(info);
      },
    });
  }

  return {
    async listPersonNotes(cid, page, perPage, signal) {
      assertPageArgs(cid, page, perPage);
      const result = await fetchEnvelope(cid, page, perPage, pagePolicy, signal);
      if (!result.ok) {
        const { status, reason } = result.failure;
        throw new UpstreamError(
          'CRM_EXTRACT_FAILED',
          `CRM did not deliver page ${page} of CID ${cid} after ${result.attempts} attempts (last: ${reason}); the run can resume from its checkpoint once CRM recovers`,
          {
            details: {
              lastStatus: status,
              lastReason: reason,
              attempts: result.attempts,
              cid,
              page,
              perPage,
            },
          },
        );
      }
      const { data, meta } = result.value;
      const fetched: CrmNotesPage = {
        page: meta.page,
        perPage: meta.per_page,
        total: meta.total,
        totalPages: meta.total_pages,
        notes: data.map(parseCrmNote),
      };
      log.debug(
        {
          cid,
          page,
          notes: data.length,
          invalid: fetched.notes.filter((n) => !n.ok).length,
          attempts: result.attempts,
        },
        'crm_page_fetched',
      );
      return fetched;
    },

    async probeOrganization(cid, signal) {
      assertPageArgs(cid, 1, 1);
      const result = await fetchEnvelope(cid, 1, 1, probePolicy, signal);
      if (!result.ok) {
        const { status, reason } = result.failure;
        throw new UpstreamError(
          'CRM_UNAVAILABLE',
          `CRM did not answer for CID ${cid} after ${result.attempts} attempts (last: ${reason}); try again later`,
          { details: { lastStatus: status, lastReason: reason, attempts: result.attempts, cid } },
        );
      }
      return { total: result.value.meta.total };
    },
  };
}

function parseRootUrl(rootUrl: string): string {
  let url: URL;
  try {
    url = new URL(rootUrl);
  } catch (e) {
    throw new ValidationError(
      `CRM_API_ROOT_URL must be an absolute http(s) URL, got ${JSON.stringify(rootUrl)}`,
      {},
      e,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`CRM_API_ROOT_URL must use http or https, got ${JSON.stringify(rootUrl)}`);
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

function assertPageArgs(cid: string, page: number, perPage: number): void {
  if (cid.trim() === '') throw new ValidationError('cid must be a non-empty string, got ""');
  if (!Number.isSafeInteger(page) || page < 1) {
    throw new ValidationError(`page must be a positive integer, got ${page}`);
  }
  if (!Number.isSafeInteger(perPage) || perPage < 1 || perPage > CRM_MAX_PAGE_SIZE) {
    throw new ValidationError(`perPage must be an integer from 1 to ${CRM_MAX_PAGE_SIZE}, got ${perPage}`);
  }
}
