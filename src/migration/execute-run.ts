/**
 * Carries one run from its checkpoint to a terminal status (DESIGN.md §1, §4): claim the CID
 * lease, then page by page — fetch, pipeline, one fenced update of counters + checkpoint, halt
 * check, cancel check — and finally validation and closure. Every run write is fenced on the
 * lease epoch; a worker that loses its lease stops without touching anything else.
 */
import type { CrmNotesExtractor, CrmNotesPage } from '../crm/crm-notes-extractor.js';
import type { ContactNotesRepository } from '../db/contact-notes-repository.js';
import type { RunDoc } from '../db/documents.js';
import type { FailuresRepository } from '../db/failures-repository.js';
import type { LocksRepository } from '../db/locks-repository.js';
import { isTransientMongoError } from '../db/mongo-errors.js';
import type { RunCounters, RunsRepository } from '../db/runs-repository.js';
import type { TerminalRunStatus } from '../domain.js';
import { AppError, toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type PageDeps, type PageOutcome, processPage } from './page-pipeline.js';
import { addPage, countersOf, shouldHalt } from './run-counters.js';
import { claimRunLease, type HeldLease } from './run-lease.js';
import { decideRunOutcome } from './run-outcome.js';

export interface ExecuteRunConfig {
  noteTypeAllowlist: readonly number[];
  maxFailureRate: number;
  matchPctThreshold: number;
  leaseMs: number;
  heartbeatMs: number;
}

/** Hooks for metrics; never allowed to break a run. */
export interface MigrationObserver {
  pageProcessed?(run: RunDoc, outcome: PageOutcome, pageMs: number): void;
  runFinished?(run: RunDoc, status: TerminalRunStatus): void;
}

export interface ExecuteRunDeps {
  runs: RunsRepository;
  locks: LocksRepository;
  contactNotes: Pick<
    ContactNotesRepository,
    'createNotesBatch' | 'countInsertedSince' | 'countLegacyNotes' | 'hasLegacyNotes' | 'findExistingIds'
  >;
  failures: Pick<FailuresRepository, 'recordMany'>;
  extractor: CrmNotesExtractor;
  pipeline: Omit<PageDeps, 'contactNotes' | 'failures' | 'logger' | 'now'>;
  config: ExecuteRunConfig;
  logger: Logger;
  now: () => Date;
  /** This worker's name, written as the lock and run owner. */
  owner: string;
  observer?: MigrationObserver;
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
      ...(options.onHeartbeat
        ? { onHeartbeat: () => options.onHeartbeat?.(progressPct) ?? Promise.resolve() }
        : {}),
    },
  );
  if (claim.kind === 'busy')
    return { kind: 'retry-later', retryInMs: claim.retryInMs, reason: 'another worker holds the lease' };
  if (claim.kind !== 'claimed') return claim;

  const { lease, run, replayFrom } = claim;
  const log = deps.logger.child({ cid: run.cid, run_id: run._id, epoch: lease.epoch, owner: deps.owner });
  log.info({ checkpoint_page: run.checkpoint.page, mode: run.mode }, 'run claimed');
  try {
    return await pageLoop(deps, run, lease, replayFrom, options, log, (pct) => (progressPct = pct));
  } catch (e) {
    const err = toError(e);
    if (isTransientMongoError(err)) {
      // The database blinked: give the lease back and let the job retry from the checkpoint.
      log.warn({ err }, 'transient database error; the run will resume from its checkpoint');
      await lease.handOff().catch(() => undefined);
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
      .catch(() => false);
    if (!ended) throw err;
    await lease.release().catch(() => undefined);
    safely(log, () => deps.observer?.runFinished?.(run, 'failed'));
    return { kind: 'finished', status: 'failed' };
  } finally {
    lease.stop();
  }
}

/** How long a job waits before retrying after a transient database error. */
const TRANSIENT_RETRY_MS = 5_000;

async function pageLoop(
  deps: ExecuteRunDeps,
  run: RunDoc,
  lease: HeldLease,
  replayFrom: Date | null,
  options: ExecuteRunOptions,
  log: Logger,
  setProgress: (pct: number) => void,
): Promise<ExecuteRunExit> {
  const allowlist = new Set(deps.config.noteTypeAllowlist);
  let counters: RunCounters = countersOf(run);
  const unaccounted: string[] = [];
  let page = run.checkpoint.page + 1;
  let firstPage = true;
  // A first run into an empty company never pays for the existence check.
  const skipExisting = await deps.contactNotes.hasLegacyNotes(run.company_sso_id);

  const finish = async (
    status: TerminalRunStatus,
    fields: Omit<Parameters<RunsRepository['finish']>[2], 'status'>,
  ) => {
    const ok = await deps.runs.finish(run._id, lease.epoch, { status, ...fields }, deps.now());
    if (!ok) return leaseLost(log);
    await lease.release();
    safely(log, () => deps.observer?.runFinished?.(run, status));
    log.info({ status, ...counters, ...fields }, 'run finished');
    return { kind: 'finished', status } as const;
  };

  for (;;) {
    if (lease.lost.aborted) return leaseLost(log);
    const started = performance.now();
    let fetchMs: number;
    let crmPage: CrmNotesPage;
    try {
      crmPage = await deps.extractor.listPersonNotes(run.cid, page, run.page_size, lease.lost);
      fetchMs = Math.round(performance.now() - started);
    } catch (e) {
      if (lease.lost.aborted) return leaseLost(log);
      const err = toError(e);
      if (!(err instanceof AppError)) throw err;
      // The CRM gave up on us: a run-level failure. `mode: "resume"` continues from the checkpoint.
      await deps.failures.recordMany(
        [
          {
            cid: run.cid,
            companySsoId: run.company_sso_id,
            runId: run._id,
            legacyCrmNoteId: null,
            reasonCode: 'CRM_EXTRACT_FAILED',
            details: { page, code: err.code, message: err.message, ...err.details },
          },
        ],
        deps.now(),
      );
      log.error({ page, err }, 'crm_extract_failed');
      return finish('failed', {
        error: { code: 'CRM_EXTRACT_FAILED', message: `page ${page}: ${err.message}` },
      });
    }

    const outcome = await processPage(
      {
        ...deps.pipeline,
        contactNotes: deps.contactNotes,
        failures: deps.failures,
        logger: deps.logger,
        now: deps.now,
      },
      {
        cid: run.cid,
        companySsoId: run.company_sso_id,
        runId: run._id,
        page,
        noteTypeAllowlist: allowlist,
        // After a takeover, the first page may replay writes of the worker that died mid-page.
        countOwnInsertsSince: firstPage ? replayFrom : null,
        skipExisting,
        signal: lease.lost,
      },
      crmPage.notes,
    );
    firstPage = false;
    unaccounted.push(...outcome.unaccountedIds);
    counters = addPage(counters, outcome, crmPage.total);

    const recordStarted = performance.now();
    if (!(await deps.runs.recordPage(run._id, lease.epoch, page, crmPage.totalPages, counters, deps.now()))) {
      return leaseLost(log);
    }
    const recordMs = Math.round(performance.now() - recordStarted);
    setProgress(counters.progress_pct);
    const pageMs = Math.round(performance.now() - started);
    safely(log, () => deps.observer?.pageProcessed?.(run, outcome, pageMs));
    log.info(
      {
        page,
        total_pages: crmPage.totalPages,
        page_ms: pageMs,
        fetch_ms: fetchMs,
        ...outcome.timings,
        checkpoint_ms: recordMs,
        ...counters,
      },
      'page done',
    );

    if (shouldHalt(counters, deps.config.maxFailureRate)) {
      log.warn(
        { run_id: run._id, cid: run.cid, failure_rate: counters.failure_rate },
        'crm_notes_migration_halted',
      );
      return finish('halted', {
        haltReason: `failure_rate ${counters.failure_rate.toFixed(4)} > MAX_FAILURE_RATE ${deps.config.maxFailureRate} after page ${page}`,
      });
    }
    if (page >= crmPage.totalPages || crmPage.notes.length === 0) break;

    const latest = await deps.runs.get(run._id);
    if (latest?.cancel_requested)
      return finish('cancelled', { haltReason: `cancelled by an operator after page ${page}` });
    if (options.shutdown?.aborted) {
      await lease.handOff();
      log.info({ page }, 'run handed off at shutdown');
      return { kind: 'handed-off' };
    }
    page++;
  }

  return validateAndClose(deps, run, counters, unaccounted, log, finish);
}

async function validateAndClose(
  deps: ExecuteRunDeps,
  run: RunDoc,
  counters: RunCounters,
  unaccounted: string[],
  log: Logger,
  finish: (
    status: TerminalRunStatus,
    fields: Omit<Parameters<RunsRepository['finish']>[2], 'status'>,
  ) => Promise<ExecuteRunExit>,
): Promise<ExecuteRunExit> {
  const cdpLegacyNotes = await deps.contactNotes.countLegacyNotes(run.company_sso_id);
  let sourceTotal: number | null = null;
  let sourceError: string | null = null;
  try {
    sourceTotal = (await deps.extractor.probeOrganization(run.cid)).total;
  } catch (e) {
    sourceError = toError(e).message;
  }
  const outcome = decideRunOutcome({
    cdpLegacyNotes,
    sourceTotal,
    counters,
    unaccountedIds: unaccounted,
    matchPctThreshold: deps.config.matchPctThreshold,
  });
  if (outcome.validationSkipped) {
    await deps.failures.recordMany(
      [
        {
          cid: run.cid,
          companySsoId: run.company_sso_id,
          runId: run._id,
          legacyCrmNoteId: null,
          reasonCode: 'VALIDATION_SKIPPED',
          details: {
            reason: 'CRM source count unavailable',
            error: sourceError,
            cdp_legacy_notes: cdpLegacyNotes,
          },
        },
      ],
      deps.now(),
    );
    log.warn(
      { legacy_crm_note_id: null, reason_code: 'VALIDATION_SKIPPED', details: { error: sourceError } },
      'crm_note_problem',
    );
  }
  if (!outcome.closure.balanced) {
    log.warn({ closure: outcome.closure }, 'run closure does not balance');
  }
  return finish(outcome.status, {
    matchPct: outcome.matchPct,
    notesInScope: outcome.notesInScope,
    closure: outcome.closure,
  });
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
