/**
 * The words of this service, declared once (DESIGN.md §3–§6). Every module uses these names.
 *
 * Glossary
 * - **CID**: a legacy CRM organisation id; one tenant. Its CDP twin is the `company_sso_id`.
 * - **run**: one pass of one kind over one CID (a `migration_runs` document). A re-trigger is a new run.
 * - **kind**: what a run does with each page (`migrate` inserts notes, `dry_run` forecasts what
 *   `migrate` would do and writes nothing, `reconcile` compares CRM with CDP, `repair` writes what
 *   differs, `rollback` undoes one run; DESIGN.md §11.1). Every kind shares the page loop, the
 *   CID lock, lease, checkpoint, progress and cancel.
 * - **forecast**: what a dry run predicts a real run would report (`migration/forecast.ts`).
 * - **diagnosis**: the dominant cause of a run's problems, with a hint what to fix
 *   (`migration/diagnose.ts`); stored as `halt_diagnosis` when it halted the run.
 * - **mode**: where a run starts: `restart` from page 1, `resume` from an earlier run's checkpoint.
 * - **page step**: what one kind does with one page: `prepare` (reads, may run ahead) then `commit`
 *   (writes, strictly in page order), and `finish` once at the end (`migration/run-step.ts`).
 * - **page mode**: how a page treats notes already in CDP: `fresh` (no check), `skip_existing` (skip
 *   them before any work), `replay` (the first page after a takeover: full path, own inserts count).
 * - **provenance**: `legacy_migration_run_id` + `legacy_fingerprint` on every migrated note; a note
 *   is **untouched** while its fields still hash to its fingerprint (`migration/note-fingerprint.ts`).
 * - **job**: the Agenda job (`agendaJobs`) that carries a run to a worker. One run, one job.
 * - **page**: one CRM response of up to `perPage` notes; the unit of work, checkpoint and progress.
 * - **checkpoint**: the last page whose notes are fully written and counted; a resumed run starts after it.
 * - **lease**: a worker's time-limited claim on a CID's lock document; `epoch` fences out older holders.
 * - **failure**: one record in `migration_failures` about one note (or the run), with a reason code.
 * - **reason code**: the SCREAMING_SNAKE name of what went wrong (§5); `failure` severity means the
 *   note was not migrated, `warning` means it was migrated with a loss, `finding` is what a
 *   reconcile, repair or rollback reports about a note (§11.5, §11.6) without it being a failure.
 * - **verdict**: how one note compares between CRM and CDP (`ok`, `missing`, `stale`, …; §11.5).
 * - **target run**: the run a rollback undoes (`target_run_id`); it gets `rolled_back_by`.
 */

export const JOB_NAME = 'crm-notes-migration';

export const RUN_STATUSES = [
  'in_progress',
  'halted',
  'failed',
  'cancelled',
  'completed_success',
  'completed_with_errors',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What the status endpoint reports for a CID: a run status, or `not_started` when there is no run. */
export type MigrationStatus = RunStatus | 'not_started';

export const TERMINAL_RUN_STATUSES = [
  'halted',
  'failed',
  'cancelled',
  'completed_success',
  'completed_with_errors',
] as const satisfies readonly RunStatus[];
export type TerminalRunStatus = (typeof TERMINAL_RUN_STATUSES)[number];

export function isTerminalStatus(status: string): status is TerminalRunStatus {
  return (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);
}

export const RUN_MODES = ['restart', 'resume'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/** What a run does with each page (DESIGN.md §11.1). Each kind has one page step (`migration/run-kinds.ts`). */
export const RUN_KINDS = ['migrate', 'dry_run', 'reconcile', 'repair', 'rollback'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** The kind of a stored run or failure record; documents written before kinds existed are `migrate`. */
export function runKindOf(doc: { kind?: RunKind | undefined }): RunKind {
  return doc.kind ?? 'migrate';
}

/** How a page treats notes already in CDP (see the glossary). */
export const PAGE_MODES = ['fresh', 'skip_existing', 'replay'] as const;
export type PageMode = (typeof PAGE_MODES)[number];

/** Note not migrated; counts toward the failure rate (DESIGN.md §5). */
export const NOTE_FAILURE_CODES = [
  'CRM_PAYLOAD_INVALID',
  'CONTACT_NOT_MAPPED',
  'NOTE_TOO_LONG',
  'NOTE_EMPTY_AFTER_SANITIZE',
  'WRITE_FAILED',
] as const;

/** Note migrated with a loss. */
export const NOTE_WARNING_CODES = [
  'OWNER_NOT_MAPPED',
  'ATTACHMENT_SSRF_BLOCKED',
  'ATTACHMENT_DOWNLOAD_FAILED',
  'ATTACHMENT_TOO_LARGE',
  'ATTACHMENT_TYPE_MISMATCH',
  'ATTACHMENT_UPLOAD_FAILED',
  'CRM_CHECKIN_DROPPED',
] as const;

/** About the whole run rather than one note. */
export const RUN_LEVEL_CODES = ['CRM_EXTRACT_FAILED', 'VALIDATION_SKIPPED'] as const;

/**
 * What reconcile, repair and rollback report about one note (DESIGN.md §11.5, §11.6): neither a
 * failure nor a loss, so they never count toward the failure rate. `ok` has no record.
 */
export const NOTE_FINDING_CODES = [
  'RECONCILE_MISSING',
  'RECONCILE_STALE',
  'RECONCILE_EDITED_IN_CDP',
  'RECONCILE_CONFLICT',
  'RECONCILE_STILL_FAILING',
  'RECONCILE_ORPHAN',
  'RECONCILE_NO_PROVENANCE',
  'REPAIR_REPLACE_SKIPPED',
  'ROLLBACK_KEPT_EDITED',
] as const;

export const REASON_CODES = [
  ...NOTE_FAILURE_CODES,
  ...NOTE_WARNING_CODES,
  ...RUN_LEVEL_CODES,
  ...NOTE_FINDING_CODES,
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
export type NoteFailureCode = (typeof NOTE_FAILURE_CODES)[number];
export type NoteWarningCode = (typeof NOTE_WARNING_CODES)[number];
export type NoteFindingCode = (typeof NOTE_FINDING_CODES)[number];
export type AttachmentProblemCode = Extract<NoteWarningCode, `ATTACHMENT_${string}`>;

export const SEVERITIES = ['failure', 'warning', 'run', 'finding'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityOf(code: ReasonCode): Severity {
  if ((NOTE_FAILURE_CODES as readonly string[]).includes(code)) return 'failure';
  if ((NOTE_WARNING_CODES as readonly string[]).includes(code)) return 'warning';
  if ((NOTE_FINDING_CODES as readonly string[]).includes(code)) return 'finding';
  return 'run';
}

/**
 * How one in-scope CRM note compares with CDP (DESIGN.md §11.5), and `orphan` for a CDP legacy
 * note CRM no longer returns. `no_provenance`: the CDP note carries no fingerprint (migrated
 * before provenance existed), so whether CRM or CDP changed cannot be told (docs/run-kinds.md).
 */
export const RECONCILE_VERDICTS = [
  'ok',
  'missing',
  'stale',
  'edited_in_cdp',
  'conflict',
  'still_failing',
  'orphan',
  'no_provenance',
] as const;
export type ReconcileVerdict = (typeof RECONCILE_VERDICTS)[number];

/** The finding code of each verdict; `ok` is not recorded (a tenant of a million notes is mostly ok). */
export const VERDICT_CODES = {
  ok: null,
  missing: 'RECONCILE_MISSING',
  stale: 'RECONCILE_STALE',
  edited_in_cdp: 'RECONCILE_EDITED_IN_CDP',
  conflict: 'RECONCILE_CONFLICT',
  still_failing: 'RECONCILE_STILL_FAILING',
  orphan: 'RECONCILE_ORPHAN',
  no_provenance: 'RECONCILE_NO_PROVENANCE',
} as const satisfies Record<ReconcileVerdict, NoteFindingCode | null>;

/** The only attachment types that may reach `contact_notes` (DESIGN.md §8). */
export const ATTACHMENT_TYPES = ['image', 'doc', 'pdf', 'video', 'voice_note', 'xlsx'] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

/** Per-note outcome of a pipeline step: problems are data, not exceptions (STYLE.md "Errors"). */
export type StepResult<T, C extends ReasonCode = ReasonCode> =
  { ok: true; value: T } | { ok: false; reasonCode: C; details: Record<string, unknown> };

/** Feature flag that must be on for a CID before a migration may be triggered. */
export const MIGRATION_FLAG = 'crm_notes_migration_enabled';

/** Owner label used when CRM gives no display name for an unmapped creator (breakdown Task 2.1). */
export const UNKNOWN_OWNER_LABEL = '[Legacy CRM User]';
