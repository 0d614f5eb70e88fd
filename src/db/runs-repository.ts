/**
 * `migration_runs`: one document per run. Every write made by a worker is fenced on
 * `{_id: run_id, lease_epoch}` (DESIGN.md §3), so a worker that lost its CID lease can no longer
 * move progress or status. Progress writes use absolute values, never `$inc`, so repeating one
 * (after a lost acknowledgement) changes nothing.
 */
import type { ChangeStream, ChangeStreamDocument, Collection, Filter } from 'mongodb';

import {
  isTerminalStatus,
  type RunKind,
  type RunMode,
  type RunStatus,
  type TerminalRunStatus,
} from '../domain.js';
import type {
  PageTimelineEntryDoc,
  RunCheckpointDoc,
  RunClosureDoc,
  RunConfigStampDoc,
  RunCounters,
  RunDoc,
  RunErrorDoc,
  RunOptionsDoc,
} from './documents.js';

export interface NewRun {
  runId: string;
  cid: string;
  companySsoId: string;
  kind: RunKind;
  mode: RunMode;
  triggeredBy: string;
  config: RunConfigStampDoc;
  resumedFromRunId: string | null;
  /** Page to continue after (0 = from the start). */
  checkpointPage: number;
  /** The source cursor after that page, for kinds that page by cursor. */
  checkpointCursor?: string | null;
  pageSize: number;
  /** The run this run acts on (a rollback's target). */
  targetRunId?: string;
  /** What the trigger asked for beyond kind and mode (stored only when there is something). */
  options?: RunOptionsDoc;
  /** The kind's own run fields it starts from (a resumed run continues its predecessor's). */
  kindFields?: Readonly<Record<string, unknown>>;
}

export interface RunFinish {
  status: TerminalRunStatus;
  matchPct?: number | null;
  notesInScope?: number | null;
  closure?: RunClosureDoc | null;
  haltReason?: string | null;
  error?: RunErrorDoc | null;
  /** The kind's own run fields, written with the terminal status (e.g. a final forecast). */
  runFields?: Readonly<Record<string, unknown>>;
}

/**
 * Pages kept in `page_timeline`: a run's recent throughput, never its whole history. 500 pages
 * of 500 notes cover a 250,000-note tenant and cost ~25 KB on the run document; a bigger tenant
 * shows its newest 500 pages.
 */
export const PAGE_TIMELINE_MAX = 500;

/** Pages of the timeline the tenant list reads (the recent rate, not the whole history). */
export const RECENT_TIMELINE_PAGES = 10;

/** Which CIDs the tenant list shows: filters apply to each CID's latest run. */
export interface TenantQuery {
  status?: RunStatus | undefined;
  kind?: RunKind | undefined;
  /** A CID prefix, or part of a company_sso_id (any case). */
  search?: string | undefined;
  /** `cid` in numeric order, or `recent`: the latest run's last update first. */
  sort: 'cid' | 'recent';
  offset: number;
  limit: number;
}

export interface TenantPage {
  /** The latest run of each CID of the page, in order, with only its recent timeline. */
  runs: RunDoc[];
  /** CIDs matching every filter. */
  total: number;
  /** CIDs matching the search and kind, by the status of their latest run. */
  countsByStatus: Partial<Record<RunStatus, number>>;
}

export const EMPTY_COUNTERS: Readonly<RunCounters> = {
  notes_total: null,
  notes_processed: 0,
  notes_migrated: 0,
  notes_skipped: 0,
  notes_failed: 0,
  notes_with_warnings: 0,
  out_of_scope_count: 0,
  progress_pct: 0,
  failure_rate: 0,
};

export interface RunsRepository {
  create(run: NewRun, now: Date, counters?: RunCounters): Promise<RunDoc>;
  setJobId(runId: string, jobId: string): Promise<void>;
  get(runId: string): Promise<RunDoc | null>;
  /** The runs with these ids that exist (a wave's members, #16). */
  getMany(runIds: readonly string[]): Promise<RunDoc[]>;
  /** The CID's newest run (of these kinds only, when given). */
  latestForCid(cid: string, kinds?: readonly RunKind[]): Promise<RunDoc | null>;
  listForCid(cid: string, limit: number): Promise<RunDoc[]>;
  /** Every CID with a run, by its latest run: one page of them, the total and counts by status (#17). */
  listTenants(query: TenantQuery): Promise<TenantPage>;
  /** The latest run of each of these CIDs that has one, with only its recent timeline. */
  latestForCids(cids: readonly string[]): Promise<RunDoc[]>;
  /** The newest terminal run of this kind of a CID that did not succeed (what `mode: "resume"` continues). */
  latestResumableForCid(cid: string, kind: RunKind): Promise<RunDoc | null>;
  /**
   * Stamps the run with a new lease epoch and the claiming worker's config stamp; null when the
   * run is terminal or already has a newer epoch.
   */
  stampLease(
    runId: string,
    epoch: number,
    owner: string,
    config: RunConfigStampDoc,
    now: Date,
  ): Promise<RunDoc | null>;
  /**
   * Fenced: counters, checkpoint and the kind's own run fields (`runFields`, e.g. a forecast) of a
   * committed page, in one update, which also appends the page to `page_timeline`. False = lease lost.
   */
  recordPage(
    runId: string,
    epoch: number,
    checkpoint: RunCheckpointDoc,
    counters: RunCounters,
    runFields: Readonly<Record<string, unknown>>,
    now: Date,
  ): Promise<boolean>;
  /**
   * Fenced: the kind's own run fields alone, between checkpoints (a write-ahead record before a
   * write that is not idempotent). False = lease lost.
   */
  recordRunFields(
    runId: string,
    epoch: number,
    runFields: Readonly<Record<string, unknown>>,
    now: Date,
  ): Promise<boolean>;
  /** Fenced: terminal status. False = lease lost (someone else decides the outcome). */
  finish(runId: string, epoch: number, finish: RunFinish, now: Date): Promise<boolean>;
  /** Unfenced terminal status for a run no worker ever claimed (its job was lost). */
  finishUnclaimed(runId: string, finish: RunFinish, now: Date): Promise<boolean>;
  /** Unfenced: ends an in-progress run whose CID lock now belongs to another run (or is gone). */
  finishOrphaned(runId: string, finish: RunFinish, now: Date): Promise<boolean>;
  /** Marks a run undone by the rollback run `byRunId` (written by that rollback when it succeeds). */
  markRolledBack(runId: string, byRunId: string, now: Date): Promise<void>;
  /** Asks the worker to stop after its current page. Returns the run, or null when none is in progress. */
  requestCancel(cid: string, now: Date): Promise<RunDoc | null>;
  /**
   * A change stream of the CID's runs (inserts, updates, replaces) with the full document looked
   * up after each update. Lazy: the cursor opens on the first read. The caller closes it.
   */
  watchCid(cid: string): ChangeStream<RunDoc, ChangeStreamDocument<RunDoc>>;
}

export function createRunsRepository(collection: Collection<RunDoc>): RunsRepository {
  const fenced = (runId: string, epoch: number): Filter<RunDoc> => ({
    _id: runId,
    lease_epoch: epoch,
    status: 'in_progress',
  });

  return {
    async create(run, now, counters = EMPTY_COUNTERS) {
      const doc: RunDoc = {
        ...run.kindFields,
        _id: run.runId,
        cid: run.cid,
        company_sso_id: run.companySsoId,
        kind: run.kind,
        mode: run.mode,
        status: 'in_progress',
        job_id: null,
        resumed_from_run_id: run.resumedFromRunId,
        ...(run.targetRunId === undefined ? {} : { target_run_id: run.targetRunId }),
        lease_epoch: 0,
        owner: null,
        triggered_by: run.triggeredBy,
        config: run.config,
        ...(run.options && Object.keys(run.options).length > 0 ? { options: run.options } : {}),
        ...counters,
        notes_in_scope: null,
        match_pct: null,
        page_size: run.pageSize,
        checkpoint: { page: run.checkpointPage, total_pages: null, cursor: run.checkpointCursor ?? null },
        cancel_requested: false,
        halt_reason: null,
        error: null,
        closure: null,
        created_at: now,
        started_at: null,
        updated_at: now,
        finished_at: null,
      };
      await collection.insertOne(doc);
      return doc;
    },

    async setJobId(runId, jobId) {
      await collection.updateOne({ _id: runId }, { $set: { job_id: jobId } });
    },

    get: (runId) => collection.findOne({ _id: runId }),

    getMany: (runIds) =>
      runIds.length === 0 ? Promise.resolve([]) : collection.find({ _id: { $in: [...runIds] } }).toArray(),

    latestForCid: (cid, kinds) =>
      collection.findOne(kinds === undefined ? { cid } : { cid, ...kindFilter(kinds) }, {
        sort: { created_at: -1, _id: -1 },
      }),

    listForCid: (cid, limit) =>
      collection.find({ cid }).sort({ created_at: -1, _id: -1 }).limit(limit).toArray(),

    async listTenants(query) {
      const [facets] = await collection
        .aggregate<{
          counts: { _id: RunStatus; n: number }[];
          page: { run_id: string }[];
          total: { n: number }[];
        }>(tenantListPipeline(query))
        .toArray();
      const ids = (facets?.page ?? []).map((p) => p.run_id);
      const byId = new Map((await findWithRecentTimeline(collection, ids)).map((r) => [r._id, r]));
      return {
        runs: ids.map((id) => byId.get(id)).filter((r): r is RunDoc => r !== undefined),
        total: facets?.total[0]?.n ?? 0,
        countsByStatus: Object.fromEntries((facets?.counts ?? []).map((c) => [c._id, c.n])),
      };
    },

    async latestForCids(cids) {
      if (cids.length === 0) return [];
      const latest = await collection
        .aggregate<{ run_id: string }>([{ $match: { cid: { $in: [...cids] } } }, ...LATEST_PER_CID])
        .toArray();
      return findWithRecentTimeline(
        collection,
        latest.map((l) => l.run_id),
      );
    },

    latestResumableForCid: (cid, kind) =>
      collection.findOne(
        {
          cid,
          status: { $in: ['failed', 'halted', 'cancelled', 'completed_with_errors'] },
          ...kindFilter([kind]),
        },
        { sort: { created_at: -1, _id: -1 } },
      ),

    async stampLease(runId, epoch, owner, config, now) {
      const run = await collection.findOneAndUpdate(
        { _id: runId, status: 'in_progress', lease_epoch: { $lt: epoch } },
        { $set: { lease_epoch: epoch, owner, config, updated_at: now } },
        { returnDocument: 'after' },
      );
      if (run && run.started_at === null) {
        await collection.updateOne({ _id: runId, started_at: null }, { $set: { started_at: now } });
        run.started_at = now;
      }
      return run;
    },

    async recordPage(runId, epoch, checkpoint, counters, runFields, now) {
      const entry: PageTimelineEntryDoc = {
        page: checkpoint.page,
        at: now,
        notes_processed: counters.notes_processed,
      };
      const r = await collection.updateOne(fenced(runId, epoch), {
        $set: { ...runFields, ...counters, checkpoint, updated_at: now },
        $push: { page_timeline: { $each: [entry], $slice: -PAGE_TIMELINE_MAX } },
      });
      return r.matchedCount === 1;
    },

    async recordRunFields(runId, epoch, runFields, now) {
      const r = await collection.updateOne(fenced(runId, epoch), { $set: { ...runFields, updated_at: now } });
      return r.matchedCount === 1;
    },

    async finish(runId, epoch, finish, now) {
      const r = await collection.updateOne(fenced(runId, epoch), { $set: finishFields(finish, now) });
      return r.matchedCount === 1;
    },

    async finishUnclaimed(runId, finish, now) {
      const r = await collection.updateOne(
        { _id: runId, status: 'in_progress', lease_epoch: 0 },
        { $set: finishFields(finish, now) },
      );
      return r.matchedCount === 1;
    },

    async finishOrphaned(runId, finish, now) {
      const r = await collection.updateOne(
        { _id: runId, status: 'in_progress' },
        { $set: finishFields(finish, now) },
      );
      return r.matchedCount === 1;
    },

    async markRolledBack(runId, byRunId, now) {
      await collection.updateOne({ _id: runId }, { $set: { rolled_back_by: byRunId, updated_at: now } });
    },

    requestCancel: (cid, now) =>
      collection.findOneAndUpdate(
        { cid, status: 'in_progress' },
        { $set: { cancel_requested: true, updated_at: now } },
        { sort: { created_at: -1 }, returnDocument: 'after' },
      ),

    watchCid: (cid) =>
      collection.watch<RunDoc, ChangeStreamDocument<RunDoc>>(
        [{ $match: { operationType: { $in: ['insert', 'update', 'replace'] }, 'fullDocument.cid': cid } }],
        // maxAwaitTimeMS bounds each server-side wait, so a close() is noticed within a second.
        { fullDocument: 'updateLookup', maxAwaitTimeMS: 1_000 },
      ),
  };
}

/**
 * Each CID's latest run as `{_id: cid, run_id, status, kind, company_sso_id, updated_at}`. The
 * sort matches `ix_migration_runs_cid_created`, so MongoDB walks the index (DISTINCT_SCAN) and reads
 * one entry per CID instead of every run.
 */
const LATEST_PER_CID = [
  { $sort: { cid: 1, created_at: -1 } },
  {
    $group: {
      _id: '$cid',
      run_id: { $first: '$_id' },
      status: { $first: '$status' },
      kind: { $first: '$kind' },
      company_sso_id: { $first: '$company_sso_id' },
      updated_at: { $first: '$updated_at' },
    },
  },
];

/** The search is a literal: every regular-expression character is escaped. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tenantListPipeline(query: TenantQuery): Record<string, unknown>[] {
  const search = query.search === undefined ? null : escapeRegex(query.search);
  const statusMatch = query.status === undefined ? [] : [{ $match: { status: query.status } }];
  const order =
    query.sort === 'cid'
      ? // CIDs are decimal strings: shorter first, then by text, is numeric order.
        [{ $addFields: { cid_length: { $strLenCP: '$_id' } } }, { $sort: { cid_length: 1, _id: 1 } }]
      : [{ $sort: { updated_at: -1, _id: 1 } }];
  return [
    ...LATEST_PER_CID,
    ...(search === null
      ? []
      : [
          {
            $match: {
              $or: [{ _id: { $regex: `^${search}` } }, { company_sso_id: { $regex: search, $options: 'i' } }],
            },
          },
        ]),
    ...(query.kind === undefined ? [] : [{ $match: kindFilter([query.kind]) }]),
    {
      $facet: {
        counts: [{ $group: { _id: '$status', n: { $sum: 1 } } }],
        page: [
          ...statusMatch,
          ...order,
          { $skip: query.offset },
          { $limit: query.limit },
          { $project: { run_id: 1 } },
        ],
        total: [...statusMatch, { $count: 'n' }],
      },
    },
  ];
}

/** The runs by id with only the newest `RECENT_TIMELINE_PAGES` of their timeline (any order). */
function findWithRecentTimeline(collection: Collection<RunDoc>, ids: readonly string[]): Promise<RunDoc[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return collection
    .find({ _id: { $in: [...ids] } }, { projection: { page_timeline: { $slice: -RECENT_TIMELINE_PAGES } } })
    .toArray();
}

/** Runs stored before kinds existed have no `kind` and are `migrate` runs (`runKindOf`). */
export function kindFilter(kinds: readonly RunKind[]): Filter<RunDoc> {
  const values: (RunKind | null)[] = [...kinds];
  if (kinds.includes('migrate')) values.push(null);
  return { kind: { $in: values } } as Filter<RunDoc>;
}

function finishFields(finish: RunFinish, now: Date): Partial<RunDoc> {
  if (!isTerminalStatus(finish.status))
    throw new Error(`finish: ${String(finish.status)} is not a terminal status`);
  const fields: Partial<RunDoc> = {
    ...finish.runFields,
    status: finish.status,
    finished_at: now,
    updated_at: now,
  };
  if (finish.matchPct !== undefined) fields.match_pct = finish.matchPct;
  if (finish.notesInScope !== undefined) fields.notes_in_scope = finish.notesInScope;
  if (finish.closure !== undefined) fields.closure = finish.closure;
  if (finish.haltReason !== undefined) fields.halt_reason = finish.haltReason;
  if (finish.error !== undefined) fields.error = finish.error;
  return fields;
}
