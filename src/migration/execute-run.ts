/**
 * The page loop, written once for every run kind (DESIGN.md §4, §11.1): claim the CID lease, then
 * page by page — fetch → the kind's prepare and commit → one fenced update of counters +
 * checkpoint → halt, cancel and shutdown checks — and the kind's end-of-run step. Every run write
 * is fenced on the lease epoch; a worker that loses its lease stops without touching anything else.
 */
import type { RunConfigStampDoc, RunCounters, RunDoc } from '../db/documents.js';
import type { FailuresRepository } from '../db/failures-repository.js';
import type { LocksRepository } from '../db/locks-repository.js';
import { isTransientMongoError } from '../db/mongo-errors.js';
import type { RunsRepository } from '../db/runs-repository.js';
import { runKindOf, type TerminalRunStatus } from '../domain.js';
import { AppError, LeaseLostError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createPageFeed, type PageFeed } from './page-feed.js';
import { addPage, countersOf } from './run-counters.js';
import { runKindModule } from './run-kinds.js';
import { claimRunLease, type HeldLease } from './run-lease.js';
import type { PageOutcome, PageStep, RunEnd, RunKindDeps, SourcePage } from './run-step.js';

export interface ExecuteRunConfig {
  leaseMs: number;
  heartbeatMs: number;
  /** CRM pages fetched ahead (and one prepared ahead) while a page is written; 0 = strictly in sequence. */
  pagePrefetch: number;
}

/** Hooks for metrics; never allowed to break a run. */
export interface MigrationObserver {
  pageProcessed?(run: RunDoc, outcome: PageOutcome, pageMs: number): void;
  runFinished?(run: RunDoc, status: TerminalRunStatus): void;
}

/**
 * A test seam (STYLE.md: seams are injected deps): awaited between a page's `prepare` and its
 * `commit`, where a person's edit can land between a step's read and its write (#14).
 */
export interface RunLoopHooks {
  beforeCommit?(run: RunDoc, page: number): Promise<void>;
}

export interface ExecuteRunDeps {
  runs: RunsRepository;
  locks: LocksRepository;
  failures: Pick<FailuresRepository, 'recordMany'>;
  /** What the kinds' page steps use (`run-step.ts`). */
  kinds: RunKindDeps;
  config: ExecuteRunConfig;
  /** This worker's config stamp, written on every run it claims. */
  configStamp: RunConfigStampDoc;
  logger: Logger;
  now: () => Date;
  /** This worker's name, written as the lock and run owner. */
  owner: string;
  observer?: MigrationObserver | undefined;
  hooks?: RunLoopHooks | undefined;
}

export interface ExecuteRunOptions {
  /** Aborted on graceful shutdown: the run stops after its current page and is handed off. */
  shutdown?: AbortSignal;
  /** Called on each lease heartbeat with the latest progress (touches the Agenda job). */
  onHeartbeat?: (progressPct: number) => Promise<void>;
}

export type ExecuteRunExit =
  | { kind: 'finished'; status: TerminalRunStatus }
  /** Try again later: another worker holds a live lease, or the database had a transient fault. */
  | { kind: 'retry-later'; retryInMs: number; reason: string }
  | { kind: 'handed-off' }
  | { kind: 'lease-lost' }
  | { kind: 'nothing-to-do'; reason: string };

/** How long a job waits before retrying after a transient database error. */
const TRANSIENT_RETRY_MS = 5_000;

/** One claimed run while the loop carries it: its lease, its counters so far, its logger. */
interface LoopState {
  run: RunDoc;
  lease: HeldLease;
  log: Logger;
  counters: RunCounters;
  unaccounted: string[];
  setProgress: (pct: number) => void;
}

export async function executeRun(
  deps: ExecuteRunDeps,
  runId: string,
  options: ExecuteRunOptions = {},
): Promise<ExecuteRunExit> {
  let progressPct = 0;
  const claim = await claimRunLease(
    { locks: deps.locks, runs: deps.runs, logger: deps.logger, now: deps.now },
    runId,
    {
      owner: deps.owner,
      leaseMs: deps.config.leaseMs,
      heartbeatMs: deps.config.heartbeatMs,
      configStamp: deps.configStamp,
      ...(options.onHeartbeat
        ? { onHeartbeat: () => options.onHeartbeat?.(progressPct) ?? Promise.resolve() }
        : {}),
    },
  );
  if (claim.kind === 'busy')
    return { kind: 'retry-later', retryInMs: claim.retryInMs, reason: 'another worker holds the lease' };
  if (claim.kind !== 'claimed') return claim;

  const { lease, run } = claim;
  const kind = runKindOf(run);
  const log = deps.logger.child({
    cid: run.cid,
    run_id: run._id,
    kind,
    epoch: lease.epoch,
    owner: deps.owner,
  });
  log.info({ checkpoint_page: run.checkpoint.page, mode: run.mode, takeover: claim.takeover }, 'run claimed');
  const state: LoopState = {
    run,
    lease,
    log,
    counters: countersOf(run),
    unaccounted: [],
    setProgress: (pct) => (progressPct = pct),
  };
  try {
    const confirmLease = async () => {
      if (!(await lease.confirm()))
        throw new LeaseLostError('lease lost before a write', { cid: run.cid, run_id: run._id });
    };
    const writeAhead = async (runFields: Readonly<Record<string, unknown>>) => {
      if (await deps.runs.recordRunFields(run._id, lease.epoch, runFields, deps.now())) return;
      // Fenced out: mark the lease lost too, so the loop stops as a lost lease, not as a failure.
      await lease.confirm();
      throw new LeaseLostError('lease lost before a write-ahead record', { cid: run.cid, run_id: run._id });
    };
    const step = await runKindModule(kind).begin(deps.kinds, {
      run,
      log,
      signal: lease.lost,
      confirmLease,
      writeAhead,
    });
    return await pageLoop(deps, state, step, claim.takeover, options);
  } catch (e) {
    return await endOnError(deps, state, toError(e));
  } finally {
    lease.stop();
  }
}

/** A page fetched and prepared (waiting for its commit), or the end of the run. */
type PreparedPage =
  | { kind: 'page'; page: SourcePage<unknown>; plan: unknown; fetchMs: number; prepareMs: number }
  | { kind: 'end'; end: RunEnd }
  | { kind: 'no-more-pages' };

async function pageLoop(
  deps: ExecuteRunDeps,
  state: LoopState,
  step: PageStep<unknown, unknown>,
  takeover: boolean,
  options: ExecuteRunOptions,
): Promise<ExecuteRunExit> {
  const { run, lease, log } = state;
  const prefetch = deps.config.pagePrefetch;
  const start = { page: run.checkpoint.page + 1, cursor: run.checkpoint.cursor ?? null };
  // Stops whatever runs ahead (fetches, a page being prepared) when the loop ends for any reason.
  const loopDone = new AbortController();
  const signal = AbortSignal.any([lease.lost, loopDone.signal]);
  const feed = createPageFeed(step.source, start, { prefetch, signal });
  const prepareNext = (replay: boolean) => prepareNextPage(state, step, feed, replay, signal, deps);
  let ahead = prepareNext(takeover);
  try {
    let cycleStarted = performance.now();
    for (;;) {
      const current = await ahead;
      if (current.kind === 'no-more-pages') break;
      if (current.kind === 'end') return await finishRun(deps, state, current.end);
      // A prepared page of a worker that lost its lease is dropped before it writes anything.
      if (lease.lost.aborted) return leaseLost(log);
      // Pipelining (§11.8): page N+1 is fetched and prepared while page N is written; commits and
      // checkpoints stay strictly in page order, and a page counts only once it is committed.
      const last = current.page.next === null;
      if (!last && prefetch > 0) ahead = prepareNext(false);
      const commitStarted = performance.now();
      await deps.hooks?.beforeCommit?.(run, current.page.position.page);
      const outcome = await step.commit(current.plan);
      if (!(await checkpoint(deps, state, current.page, outcome))) return leaseLost(log);
      const now = performance.now();
      reportPage(deps, state, current, outcome, {
        pageMs: Math.round(now - cycleStarted),
        commitMs: Math.round(now - commitStarted),
      });
      cycleStarted = now;

      const halt = step.haltAfter(state.counters, current.page.position.page);
      if (halt) {
        log.warn({ run_id: run._id, cid: run.cid, ...halt.logFields }, 'crm_notes_migration_halted');
        return await finishRun(deps, state, {
          status: 'halted',
          haltReason: halt.reason,
          runFields: halt.runFields,
        });
      }
      if (last) break;
      const stop = await stopRequested(deps, state, current.page.position.page, options);
      if (stop) return stop;
      if (prefetch === 0) ahead = prepareNext(false);
    }
    return await finishRun(deps, state, await step.finish(state.counters, state.unaccounted));
  } finally {
    // Whatever was fetched or prepared ahead and not committed is dropped here; wait for it to
    // settle so nothing of this run still works after it returned.
    loopDone.abort(new Error('run loop ended'));
    feed.close();
    await ahead.catch(() => undefined);
  }
}

/**
 * The next page from the feed, prepared. A fetch the source gave up on ends the run (a run-level
 * failure record). The promise never rejects unhandled: a page prepared ahead may be dropped.
 */
function prepareNextPage(
  state: LoopState,
  step: PageStep<unknown, unknown>,
  feed: PageFeed<unknown>,
  replay: boolean,
  signal: AbortSignal,
  deps: ExecuteRunDeps,
): Promise<PreparedPage> {
  const work = (async (): Promise<PreparedPage> => {
    const fetchStarted = performance.now();
    const position = feed.nextPosition();
    let page: SourcePage<unknown> | null;
    try {
      page = await feed.next();
    } catch (e) {
      return { kind: 'end', end: await sourceFailed(deps, state, toError(e), position?.page ?? null) };
    }
    if (!page) return { kind: 'no-more-pages' };
    const prepareStarted = performance.now();
    const plan = await step.prepare(page, { replay }, signal);
    return {
      kind: 'page',
      page,
      plan,
      fetchMs: Math.round(prepareStarted - fetchStarted),
      prepareMs: Math.round(performance.now() - prepareStarted),
    };
  })();
  work.catch(() => undefined);
  return work;
}

/** The source gave up on us (CRM retries exhausted): a run-level failure, `mode: "resume"` continues. */
async function sourceFailed(
  deps: ExecuteRunDeps,
  state: LoopState,
  err: Error,
  page: number | null,
): Promise<RunEnd> {
  if (state.lease.lost.aborted || !(err instanceof AppError)) throw err;
  const { run } = state;
  await deps.failures.recordMany(
    [
      {
        cid: run.cid,
        companySsoId: run.company_sso_id,
        runId: run._id,
        kind: runKindOf(run),
        legacyCrmNoteId: null,
        reasonCode: 'CRM_EXTRACT_FAILED',
        details: { page, code: err.code, message: err.message, ...err.details },
      },
    ],
    deps.now(),
  );
  state.log.error({ page, err }, 'crm_extract_failed');
  return {
    status: 'failed',
    error: { code: 'CRM_EXTRACT_FAILED', message: `page ${page ?? '?'}: ${err.message}` },
  };
}

/** One fenced update: counters, checkpoint and the kind's run fields move together. */
async function checkpoint(
  deps: ExecuteRunDeps,
  state: LoopState,
  page: SourcePage<unknown>,
  outcome: PageOutcome,
): Promise<boolean> {
  state.counters = addPage(state.counters, outcome, page.total);
  state.unaccounted.push(...outcome.unaccountedIds);
  const ok = await deps.runs.recordPage(
    state.run._id,
    state.lease.epoch,
    // After the last page a cursor source's own cursor is kept (see `SourcePage.next`).
    {
      page: page.position.page,
      total_pages: page.totalPages,
      cursor: page.next ? page.next.cursor : page.position.cursor,
    },
    state.counters,
    outcome.runFields ?? {},
    deps.now(),
  );
  if (ok) state.setProgress(state.counters.progress_pct);
  return ok;
}

/**
 * `page_ms` is the cycle time from one committed page to the next (what throughput is made of);
 * with pages fetched and prepared ahead, `fetch_ms` and `prepare_ms` overlapped the previous
 * page's commit, and `fetch_ms` is only the wait left for the CRM.
 */
function reportPage(
  deps: ExecuteRunDeps,
  state: LoopState,
  prepared: { page: SourcePage<unknown>; fetchMs: number; prepareMs: number },
  outcome: PageOutcome,
  times: { pageMs: number; commitMs: number },
): void {
  safely(state.log, () => deps.observer?.pageProcessed?.(state.run, outcome, times.pageMs));
  state.log.info(
    {
      page: prepared.page.position.page,
      total_pages: prepared.page.totalPages,
      page_ms: times.pageMs,
      fetch_ms: prepared.fetchMs,
      prepare_ms: prepared.prepareMs,
      commit_ms: times.commitMs,
      ...outcome.timings,
      ...state.counters,
    },
    'page done',
  );
}

/** Between pages: an operator's cancel ends the run; a graceful shutdown hands it to another worker. */
async function stopRequested(
  deps: ExecuteRunDeps,
  state: LoopState,
  page: number,
  options: ExecuteRunOptions,
): Promise<ExecuteRunExit | null> {
  const latest = await deps.runs.get(state.run._id);
  if (latest?.cancel_requested) {
    return finishRun(deps, state, {
      status: 'cancelled',
      haltReason: `cancelled by an operator after page ${page}`,
    });
  }
  if (options.shutdown?.aborted) {
    await state.lease.handOff();
    state.log.info({ page }, 'run handed off at shutdown');
    return { kind: 'handed-off' };
  }
  return null;
}

async function finishRun(deps: ExecuteRunDeps, state: LoopState, end: RunEnd): Promise<ExecuteRunExit> {
  const { status, ...fields } = end;
  const ok = await deps.runs.finish(state.run._id, state.lease.epoch, end, deps.now());
  if (!ok) return leaseLost(state.log);
  await state.lease.release();
  safely(state.log, () => deps.observer?.runFinished?.(state.run, status));
  state.log.info({ status, ...state.counters, ...fields }, 'run finished');
  return { kind: 'finished', status };
}

/** A transient database fault hands the run back for a retry; anything else fails the run. */
async function endOnError(deps: ExecuteRunDeps, state: LoopState, err: Error): Promise<ExecuteRunExit> {
  const { run, lease, log } = state;
  if (lease.lost.aborted) return leaseLost(log);
  if (isTransientMongoError(err)) {
    log.warn({ err }, 'transient database error; the run will resume from its checkpoint');
    await lease.handOff().catch((e: unknown) => log.warn({ err: toError(e) }, 'lease hand-off failed'));
    return { kind: 'retry-later', retryInMs: TRANSIENT_RETRY_MS, reason: err.message };
  }
  log.error({ err }, 'run failed unexpectedly');
  const ended = await deps.runs
    .finish(
      run._id,
      lease.epoch,
      { status: 'failed', error: { code: 'INTERNAL', message: err.message } },
      deps.now(),
    )
    .catch((e: unknown) => {
      log.warn({ err: toError(e) }, 'could not mark the run failed');
      return false;
    });
  if (!ended) throw err;
  await lease.release().catch((e: unknown) => log.warn({ err: toError(e) }, 'lease release failed'));
  safely(log, () => deps.observer?.runFinished?.(run, 'failed'));
  return { kind: 'finished', status: 'failed' };
}

function leaseLost(log: Logger): ExecuteRunExit {
  log.warn('lease lost: stopping without further writes');
  return { kind: 'lease-lost' };
}

function safely(log: Logger, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    log.warn({ err: toError(e) }, 'migration observer failed');
  }
}
