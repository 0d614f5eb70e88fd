/**
 * The CRM fetch limit (#15): how fast a plain client can page one tenant of a CRM with a given
 * in-flight window, honouring 429s with the client's shared pause. It reads every page to the end
 * but parses none (only page 1, for the page count), so it measures the CRM, not our pipeline.
 * `npm run bench` compares a migration's throughput against it; `measure-crm-fetch-limit.ts` prints it.
 */
import { type Dispatcher, request } from 'undici';

import { createInProcessCrmPacer } from '../src/crm/crm-request-pacer.js';
import { realSleep, type Sleeper } from '../src/crm/crm-retry.js';
import { tryParseRetryAfterMs } from '../src/crm/retry-after.js';

export interface CrmFetchLimitOptions {
  /** CRM root URL (the fake's `url`). */
  url: string;
  /** Sent as `Authorization`; the same token as the migration, so they share one quota. */
  auth: string | undefined;
  cid: string;
  perPage: number;
  /** Page requests in flight at once (the run's prefetch window). */
  inFlight: number;
  /** Page through the tenant this many times (default 1). */
  passes?: number;
  /** Per-request deadline, ms (default 30,000). */
  timeoutMs?: number;
  /** A page that keeps getting 429s fails the measurement after this many attempts (default 20). */
  maxAttemptsPerPage?: number;
  /** Injected by tests with a manual clock; default real timers and `performance.now`. */
  sleep?: Sleeper;
  nowMs?: () => number;
  dispatcher?: Dispatcher;
}

export interface CrmFetchLimit {
  inFlight: number;
  perPage: number;
  pages: number;
  notes: number;
  /** Every request sent, 429s included. */
  requests: number;
  rateLimited: number;
  /** Shared pauses the 429s caused. */
  pauses: number;
  seconds: number;
  pagesPerSecond: number;
  notesPerSecond: number;
  /** Time of the successful attempt of each page (send to last byte), ms. */
  pageMs: { p50: number; p95: number; max: number };
}

const NO_RETRY_AFTER_PAUSE_MS = 1_000;

export async function measureCrmFetchLimit(options: CrmFetchLimitOptions): Promise<CrmFetchLimit> {
  assertOptions(options);
  const sleep = options.sleep ?? realSleep;
  const nowMs = options.nowMs ?? (() => performance.now());
  const pacer = createInProcessCrmPacer({ sleep, nowMs });
  const tally = { requests: 0, rateLimited: 0 };
  const pageMs: number[] = [];
  const root = options.url.replace(/\/+$/, '');

  async function fetchPage(page: number): Promise<string> {
    const url = `${root}/v1/organizations/${encodeURIComponent(options.cid)}/person_notes?page=${page}&per_page=${options.perPage}`;
    for (let attempt = 1; attempt <= (options.maxAttemptsPerPage ?? 20); attempt++) {
      await pacer.acquire({ cid: options.cid, kind: 'page' });
      const startedMs = nowMs();
      tally.requests++;
      const res = await request(url, {
        headers: options.auth === undefined ? {} : { authorization: options.auth },
        headersTimeout: options.timeoutMs ?? 30_000,
        bodyTimeout: options.timeoutMs ?? 30_000,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      if (res.statusCode === 429) {
        await res.body.dump();
        tally.rateLimited++;
        const retryAfterMs = tryParseRetryAfterMs(headerOf(res.headers['retry-after']), new Date());
        pacer.onRateLimited(retryAfterMs);
        if (retryAfterMs === null) await sleep(NO_RETRY_AFTER_PAUSE_MS);
        continue;
      }
      if (res.statusCode !== 200) {
        const body = await res.body.text();
        throw new Error(
          `CRM answered page ${page} of CID ${options.cid} with ${res.statusCode}: ${body.slice(0, 200)}`,
        );
      }
      // Page 1 is parsed for the page count; every other page is only read to its end.
      const text = page === 1 ? await res.body.text() : (await drain(res.body), '');
      pageMs.push(nowMs() - startedMs);
      pacer.onSuccess();
      return text;
    }
    throw new Error(`CRM kept answering 429 to page ${page} of CID ${options.cid}; the measurement gave up`);
  }

  const startedMs = nowMs();
  const first = JSON.parse(await fetchPage(1)) as { meta?: { total?: number; total_pages?: number } };
  const total = first.meta?.total ?? 0;
  const totalPages = first.meta?.total_pages ?? 1;
  const queue: number[] = [];
  for (let pass = 0; pass < (options.passes ?? 1); pass++) {
    for (let page = pass === 0 ? 2 : 1; page <= totalPages; page++) queue.push(page);
  }
  const pages = 1 + queue.length;
  let notes = notesOn(1, total, options.perPage);
  const worker = async () => {
    for (let page = queue.shift(); page !== undefined; page = queue.shift()) {
      await fetchPage(page);
      notes += notesOn(page, total, options.perPage);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.inFlight, Math.max(1, queue.length)) }, worker));
  const seconds = (nowMs() - startedMs) / 1000;
  return {
    inFlight: options.inFlight,
    perPage: options.perPage,
    pages,
    notes,
    ...tally,
    pauses: pacer.pauses.started,
    seconds: round(seconds, 3),
    pagesPerSecond: round(pages / seconds, 2),
    notesPerSecond: Math.round(notes / seconds),
    pageMs: percentiles(pageMs),
  };
}

function assertOptions(options: CrmFetchLimitOptions): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) {
      throw new Error(`measureCrmFetchLimit: ${name} must be a positive integer, got ${v}`);
    }
  };
  positive('perPage', options.perPage);
  positive('inFlight', options.inFlight);
  positive('passes', options.passes);
  positive('maxAttemptsPerPage', options.maxAttemptsPerPage);
}

function notesOn(page: number, total: number, perPage: number): number {
  return Math.max(0, Math.min(perPage, total - (page - 1) * perPage));
}

async function drain(body: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of body) {
    // Read and drop: the CRM's cost is sending it.
  }
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function round(value: number, digits: number): number {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : 0;
}

function percentiles(samples: number[]): CrmFetchLimit['pageMs'] {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return { p50: at(0.5), p95: at(0.95), max: Math.round(sorted.at(-1) ?? 0) };
}
