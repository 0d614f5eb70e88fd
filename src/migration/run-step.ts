/**
 * The contract between the page loop (`execute-run.ts`) and a run kind (DESIGN.md §11.1): the
 * loop owns claim, fetch order, the fenced checkpoint, halt/cancel/shutdown and the terminal
 * write; a kind owns what one page reads and writes. Adding a kind = one module exporting a
 * `RunKindModule` + one line in `run-kinds.ts` (docs/run-kinds.md).
 */
import type { AttachmentObjectRemover } from '../attachments/s3-attachment-store.js';
import type { CrmNotesExtractor } from '../crm/crm-notes-extractor.js';
import type { ContactNotesRepository } from '../db/contact-notes-repository.js';
import type { RunCounters, RunDoc, RunOptionsDoc } from '../db/documents.js';
import type { FailuresRepository } from '../db/failures-repository.js';
import type { RunScratchRepository } from '../db/run-scratch-repository.js';
import type { RunFinish, RunsRepository } from '../db/runs-repository.js';
import type { ReasonCode, RunKind, TerminalRunStatus } from '../domain.js';
import type { Logger } from '../logger.js';
import type { ContactResolver } from '../resolve/contact-resolver.js';
import type { OwnerResolver } from '../resolve/owner-resolver.js';
import type { AttachmentRehoster, NormalizeHtml } from './pipeline-ports.js';
import type { PageTally } from './run-counters.js';

/** Where a page starts: its number, and the source's cursor for kinds that page by cursor. */
export interface PagePosition {
  page: number;
  cursor: string | null;
}

export interface SourcePage<Item> {
  position: PagePosition;
  items: readonly Item[];
  /** Items the source holds in all (becomes `notes_total`); null when it cannot say. */
  total: number | null;
  totalPages: number | null;
  /**
   * Where the next page starts; null after the last page. The checkpoint stores `next.cursor`,
   * or this page's own cursor when it is the last: so a source that pages by cursor ends with an
   * empty page, and a takeover after it starts past everything instead of at the beginning.
   */
  next: PagePosition | null;
}

/**
 * Where a kind's pages come from (CRM for most kinds). Errors: an `AppError` ends the run
 * `failed` with a `CRM_EXTRACT_FAILED` record; anything else is handled like any run error.
 */
export interface PageSource<Item> {
  fetch(position: PagePosition, signal: AbortSignal): Promise<SourcePage<Item>>;
  /**
   * Where the page after `position` starts, known before that page arrives (sources that page by
   * number): lets the loop fetch pages ahead. Absent for cursor sources (one page ahead at most).
   */
  positionAfter?(position: PagePosition): PagePosition;
}

/** What committing one page did: the tally the counters move by, and the kind's own run fields. */
export interface PageOutcome extends PageTally {
  problemsByReason: Partial<Record<ReasonCode, number>>;
  /** Where the page's time went, in ms by step (`existing_ms`, `write_ms`, …), logged per page. */
  timings: Record<string, number>;
  /** Ids of items that ended in no bucket: always empty unless a step has a bug. */
  unaccountedIds: string[];
  /** Written with the checkpoint in the same fenced update (e.g. a forecast so far). */
  runFields?: Readonly<Record<string, unknown>>;
}

/** Per page, from the loop: was it possibly half-written by a worker that died (a takeover)? */
export interface PageContext {
  replay: boolean;
}

export interface HaltDecision {
  reason: string;
  /** Stored with the `halted` status (e.g. a diagnosis). */
  runFields?: Readonly<Record<string, unknown>>;
  /** Logged with `crm_notes_migration_halted`. */
  logFields?: Readonly<Record<string, unknown>>;
}

export interface RunEnd extends Omit<RunFinish, 'status'> {
  status: TerminalRunStatus;
}

/**
 * One run's page step. `prepare` only reads (and may write idempotent side data such as
 * attachment objects under deterministic keys), so a prepared page that is dropped — lease lost,
 * cancel, halt, shutdown — changes nothing; `commit` writes and is called strictly in page order.
 */
export interface PageStep<Item, Plan> {
  readonly source: PageSource<Item>;
  prepare(page: SourcePage<Item>, ctx: PageContext, signal: AbortSignal): Promise<Plan>;
  commit(plan: Plan): Promise<PageOutcome>;
  /** After each committed page and checkpoint: halt now, or null to go on. */
  haltAfter(counters: RunCounters, page: number): HaltDecision | null;
  /** After the last page: the terminal status and what to store with it. */
  finish(counters: RunCounters, unaccountedIds: readonly string[]): Promise<RunEnd>;
}

export interface RunStepContext {
  /** The run as stamped by this claim. */
  run: RunDoc;
  log: Logger;
  /** Aborted when the lease is lost. */
  signal: AbortSignal;
  /**
   * Renews the lease now; throws `LeaseLostError` when another worker holds it. Call right
   * before a write that is not idempotent (a delete), so a worker paused past its lease writes
   * nothing when it wakes up; idempotent writes need not (fencing covers the run document).
   */
  confirmLease(): Promise<void>;
  /**
   * Stores the kind's own run fields now, fenced on the lease epoch like a checkpoint: a
   * write-ahead record before a page's writes that are not idempotent (a rollback's deletes), so
   * whoever claims the run next can finish them. Throws `LeaseLostError` when another worker holds
   * the run — the check and the record are one atomic write, unlike `confirmLease` + a write.
   */
  writeAhead(runFields: Readonly<Record<string, unknown>>): Promise<void>;
}

/** Everything a kind may use; each kind's `begin` reads only what it needs. */
export interface RunKindDeps {
  contactNotes: ContactNotesRepository;
  failures: Pick<FailuresRepository, 'recordMany'>;
  /** Other runs: a rollback reads its target (and earlier rollbacks of it) and marks it undone. */
  runs: Pick<RunsRepository, 'get' | 'markRolledBack' | 'listForCid'>;
  /** Bounded per-run side data (seen CRM ids, delete intents). */
  scratch: RunScratchRepository;
  extractor: CrmNotesExtractor;
  contacts: ContactResolver;
  owners: OwnerResolver;
  normalizeHtml: NormalizeHtml;
  attachments: AttachmentRehoster;
  /**
   * Attachment checks that store nothing (#13): `urls` runs the SSRF guard only; `downloads` also
   * downloads under the size cap and checks magic bytes. Both return the documents a real run
   * would store, so a forecast can count them and reconcile can fingerprint them (#14).
   */
  vetAttachments: { urls: AttachmentRehoster; downloads: AttachmentRehoster };
  /** Deletes S3 objects (rollback). */
  attachmentObjects: AttachmentObjectRemover;
  /** How many notes of a page may re-host attachments at once. */
  attachmentNoteConcurrency: number;
  config: {
    noteTypeAllowlist: readonly number[];
    maxFailureRate: number;
    maxWarningRate: number;
    matchPctThreshold: number;
  };
  logger: Logger;
  now: () => Date;
}

/**
 * What the trigger and the queries need to know about a kind before any worker runs it. Every
 * field is spelled out in every kind's module (no defaults), so a new kind decides each one.
 */
export interface RunKindPolicy {
  /** Needs the CID's feature flag (kinds that write notes). */
  requiresFlag: boolean;
  /** Refused with 409 `ALREADY_MIGRATED` once the CID's migration completed successfully. */
  refusedAfterSuccess: boolean;
  /**
   * Changes `contact_notes` (inserts, replaces or deletes). Whether a CID is migrated is decided
   * by its latest run of such a kind: a rollback after the run that completed it reopens it.
   */
  changesNotes: boolean;
  /** Its `completed_success`, as the CID's latest note-changing run, makes the CID "migrated". */
  completesMigration: boolean;
  /** Reads CRM pages: the trigger first asks CRM whether it knows the CID (404 `CID_NOT_FOUND`). */
  readsCrm: boolean;
  /** Acts on another run (`target_run_id`): started by its own route, refused by `POST /migrate`. */
  targetsRun: boolean;
  /** A finished run of this kind may be rolled back (its notes carry its provenance). */
  canBeRolledBack: boolean;
  /**
   * Its failure records are in the default failure queries and exports (those without `run_id`
   * or `kind`): runs that change CDP are; forecasts and findings are asked for by name.
   */
  failuresShownByDefault: boolean;
  /** The trigger options it takes (`RunOptionsDoc`); any other option is refused with 400. */
  acceptsOptions: readonly (keyof RunOptionsDoc)[];
  /**
   * `mode: "resume"` may continue an earlier run of this kind from its checkpoint; otherwise it is
   * refused with 400. Reconcile and repair may not: their orphan pass needs every CRM id the run
   * itself saw, and a restart loses nothing but time (reconcile writes nothing, repair's writes
   * are idempotent).
   */
  resumable: boolean;
}

export interface RunKindModule {
  readonly kind: RunKind;
  readonly policy: RunKindPolicy;
  /** Builds the run's page step once the lease is held (e.g. decides the page mode). */
  begin(deps: RunKindDeps, ctx: RunStepContext): Promise<PageStep<unknown, unknown>>;
  /**
   * The kind's run fields a `mode: "resume"` run starts from, taken from the run it resumes (the
   * counters are carried by the trigger for every kind), so its totals cover the whole tenant.
   */
  resumeFieldsOf?(from: RunDoc): Readonly<Record<string, unknown>>;
}
