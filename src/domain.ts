/**
 * The words of this service, declared once (DESIGN.md §3–§6). Every module uses these names.
 *
 * Glossary
 * - **CID**: a legacy CRM organisation id; one tenant. Its CDP twin is the `company_sso_id`.
 * - **run**: one pass of one kind over one CID (a `migration_runs` document). A re-trigger is a new run.
 * - **kind**: what a run does with each page (`migrate` inserts notes, `dry_run` forecasts what
 *   `migrate` would do and writes nothing; DESIGN.md §11.1). Every kind shares the page loop, the
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
 *   note was not migrated, `warning` means it was migrated with a loss.
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
export const RUN_KINDS = ['migrate', 'dry_run'] as const;
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

export const REASON_CODES = [...NOTE_FAILURE_CODES, ...NOTE_WARNING_CODES, ...RUN_LEVEL_CODES] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
export type NoteFailureCode = (typeof NOTE_FAILURE_CODES)[number];
export type NoteWarningCode = (typeof NOTE_WARNING_CODES)[number];
export type AttachmentProblemCode = Extract<NoteWarningCode, `ATTACHMENT_${string}`>;

export const SEVERITIES = ['failure', 'warning', 'run'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityOf(code: ReasonCode): Severity {
  if ((NOTE_FAILURE_CODES as readonly string[]).includes(code)) return 'failure';
  if ((NOTE_WARNING_CODES as readonly string[]).includes(code)) return 'warning';
  return 'run';
}

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
