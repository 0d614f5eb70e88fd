/**
 * The tenant list (#17): `GET /private/notes/migration/tenants` pages every CID that has a run, by
 * its latest run, filtered by status and kind and searched by CID or company; and
 * `GET /private/notes/migration/tenants/stream?cids=` pushes the rows of one page as they change.
 * The list pages by offset: the latest-run grouping reads every CID anyway, so a cursor would
 * save nothing, and offsets give the console its "page 3 of 40".
 */
import type { Router } from '@koa/router';
import { z } from 'zod';

import { abortableDelay } from '../abortable-delay.js';
import type { RunsRepository } from '../db/runs-repository.js';
import { RUN_KINDS, RUN_STATUSES } from '../domain.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SseObserver } from '../metrics.js';
import {
  CID_PATTERN,
  describeValue,
  limitSchema,
  optionalEnumSchema,
  optionalPatternSchema,
  parseInput,
} from './parse-input.js';
import { runSseChannel } from './sse-channel.js';
import { setEventId, stateDigest, tryParseLastEventId } from './sse-event-id.js';
import { type TenantItem, toTenantItem } from './tenant-view.js';

export const TENANTS_PATH = '/private/notes/migration/tenants';
export const TENANTS_STREAM_PATH = '/private/notes/migration/tenants/stream';
export const TENANTS_DEFAULT_LIMIT = 50;
export const TENANTS_MAX_LIMIT = 200;
/** CIDs one tenants stream may follow: one page of the list at the largest limit is two streams. */
export const TENANTS_STREAM_MAX_CIDS = 100;
export const TENANT_SORTS = ['cid', 'recent'] as const;
/** What a search may hold: the characters of CIDs and company ids, nothing a regex could read. */
export const TENANT_SEARCH_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
const MAX_PAGE = 100_000;

export const TenantsQuerySchema = z.strictObject({
  status: optionalEnumSchema('status', RUN_STATUSES),
  kind: optionalEnumSchema('kind', RUN_KINDS),
  q: optionalPatternSchema('q', TENANT_SEARCH_PATTERN, '1-128 characters of A-Z a-z 0-9 . _ : @ -'),
  sort: optionalEnumSchema('sort', TENANT_SORTS),
  page: optionalPatternSchema('page', /^[1-9][0-9]{0,5}$/, `an integer from 1 to ${MAX_PAGE}`),
  limit: limitSchema(TENANTS_DEFAULT_LIMIT, TENANTS_MAX_LIMIT),
});
export type TenantsQuery = z.output<typeof TenantsQuerySchema>;

const cidListSchema = z.unknown().transform((value, ctx): string[] => {
  const cids = typeof value === 'string' ? value.split(',') : [];
  const unique = [...new Set(cids)];
  if (
    unique.length === 0 ||
    unique.length > TENANTS_STREAM_MAX_CIDS ||
    !unique.every((c) => CID_PATTERN.test(c))
  ) {
    ctx.addIssue({
      code: 'custom',
      message: `cids must be 1-${TENANTS_STREAM_MAX_CIDS} comma-separated CIDs (ASCII digits, no leading zero), got ${describeValue(value)}`,
    });
    return z.NEVER;
  }
  return unique;
});
export const TenantsStreamQuerySchema = z.strictObject({ cids: cidListSchema });

/** A CID of the stream without any run (it may get one while the page is open). */
export interface NoRunItem {
  cid: string;
  status: 'not_started';
}

export interface TenantListBody {
  items: TenantItem[];
  total: number;
  page: number;
  limit: number;
  pages: number;
  counts_by_status: Partial<Record<(typeof RUN_STATUSES)[number], number>>;
}

export interface TenantRouteDeps {
  runs: Pick<RunsRepository, 'listTenants' | 'latestForCids'>;
  logger: Logger;
  sse?: SseObserver | undefined;
  heartbeatMs: number;
  retryMs?: number | undefined;
  /** How often the stream reads its CIDs' latest runs (STATUS_POLL_MS). */
  pollMs: number;
}

/** One page of the tenant list; what the route answers and the console renders. */
export async function readTenantList(
  runs: Pick<RunsRepository, 'listTenants'>,
  q: TenantsQuery,
): Promise<TenantListBody> {
  const page = q.page === undefined ? 1 : Number(q.page);
  const result = await runs.listTenants({
    status: q.status,
    kind: q.kind,
    search: q.q,
    sort: q.sort ?? 'cid',
    offset: (page - 1) * q.limit,
    limit: q.limit,
  });
  return {
    items: result.runs.map(toTenantItem),
    total: result.total,
    page,
    limit: q.limit,
    pages: Math.max(1, Math.ceil(result.total / q.limit)),
    counts_by_status: result.countsByStatus,
  };
}

export function registerTenantRoutes(router: Router, deps: TenantRouteDeps): void {
  router.get(TENANTS_PATH, async (ctx) => {
    ctx.body = await readTenantList(deps.runs, parseInput(TenantsQuerySchema, ctx.query, 'query'));
  });

  router.get(TENANTS_STREAM_PATH, async (ctx) => {
    const { cids } = parseInput(TenantsStreamQuerySchema, ctx.query, 'query');
    const lastEventId = tryParseLastEventId(ctx.get('last-event-id'));
    // Read before answering: a database error is still a JSON error with a status code.
    const first = await readItems(deps.runs, cids);
    const abort = new AbortController();
    const log = deps.logger.child({ cids: cids.length });
    runSseChannel(
      ctx,
      { ...deps, logger: log, abort },
      async (channel) => {
        const known = new Map<string, string>();
        const send = (item: TenantItem | NoRunItem, digest: string) => {
          known.set(item.cid, digest);
          channel.send('tenant', item, setEventId(known));
        };
        // The client resumes with the id of everything it had: when nothing changed, nothing is resent.
        const current = new Map(first.map((item) => [item.cid, stateDigest(item)]));
        if (lastEventId === setEventId(current)) for (const [cid, d] of current) known.set(cid, d);
        else for (const item of first) send(item, current.get(item.cid)!);
        await followChanges(deps, cids, channel.signal, log, (item) => {
          const digest = stateDigest(item);
          if (known.get(item.cid) !== digest) send(item, digest);
        });
      },
      () => Promise.resolve(),
    );
  });
}

async function readItems(
  runs: Pick<RunsRepository, 'latestForCids'>,
  cids: readonly string[],
): Promise<(TenantItem | NoRunItem)[]> {
  const byCid = new Map((await runs.latestForCids(cids)).map((r) => [r.cid, r]));
  return cids.map((cid) => {
    const run = byCid.get(cid);
    return run ? toTenantItem(run) : { cid, status: 'not_started' };
  });
}

/** Polls the CIDs' latest runs until `signal` aborts; a failed read is logged and retried later. */
async function followChanges(
  deps: TenantRouteDeps,
  cids: readonly string[],
  signal: AbortSignal,
  log: Logger,
  onItem: (item: TenantItem | NoRunItem) => void,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    await abortableDelay(Math.min(deps.pollMs * 2 ** failures, 30_000), signal);
    if (signal.aborted) return;
    try {
      for (const item of await readItems(deps.runs, cids)) onItem(item);
      failures = 0;
    } catch (e) {
      failures = Math.min(failures + 1, 5);
      log.warn({ err: toError(e) }, 'tenants stream read failed; retrying');
    }
  }
}
