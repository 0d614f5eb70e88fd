/**
 * The stored shapes of every collection the service touches (DESIGN.md §3), snake_case as in
 * MongoDB. Only types: the queries live in one repository file per collection.
 */
import type { ObjectId } from 'mongodb';

import type {
  AttachmentType,
  ReasonCode,
  ReconcileVerdict,
  RunKind,
  RunMode,
  RunStatus,
  Severity,
  TerminalRunStatus,
  WaveMemberState,
  WaveRunKind,
  WaveState,
} from '../domain.js';

export const COLLECTIONS = {
  contactNotes: 'contact_notes',
  contacts: 'contacts',
  users: 'users',
  featureFlags: 'feature_flags',
  runs: 'migration_runs',
  locks: 'migration_locks',
  failures: 'migration_failures',
  schemaMigrations: 'schema_migrations',
  runScratch: 'migration_run_scratch',
  agendaJobs: 'agendaJobs',
  waves: 'migration_waves',
  crmBudgets: 'crm_budgets',
} as const;

export interface NoteAttachmentDoc {
  type: AttachmentType;
  url: string;
  file_name: string;
  file_size_in_byte: number;
}

/** A CDP note. Migrated notes carry `legacy_crm_note_id`; notes people write do not. */
export interface ContactNoteDoc {
  _id: ObjectId;
  company_sso_id: string;
  contact_id: string;
  owner_id: string | null;
  note: string;
  attachments: NoteAttachmentDoc[];
  is_deleted: boolean;
  created_at: Date;
  updated_at: Date;
  legacy_crm_note_id?: string;
  legacy_owner_label?: string;
  /** Provenance (DESIGN.md §11.2): the run that inserted the note. Absent on notes migrated before #12. */
  legacy_migration_run_id?: string;
  /** SHA-256 of what that run wrote (`migration/note-fingerprint.ts`); absent like the run id. */
  legacy_fingerprint?: string;
  /**
   * Set by a repair run that replaced a stale note (#14): the fingerprint of the version it
   * replaced. Tells a repair's replaced notes from its inserted ones (exact counts after a crash).
   */
  legacy_replaced_fingerprint?: string;
  /**
   * The CRM page of the run (migrate or repair) that wrote it: a write that finds this run's note
   * from this page is a retry of the page's own write (count it once), from another page a CRM
   * duplicate. Absent on notes migrated before it existed.
   */
  legacy_migration_page?: number;
}

/** A CDP contact; `crm_data.id` is the CRM person id as a string. */
export interface ContactDoc {
  _id: string;
  company_sso_id: string;
  name?: string;
  crm_data?: { id?: string };
}

/** An SSO user directory entry. */
export interface UserDoc {
  _id: string;
  sso_id: string;
  company_sso_id: string;
  name: string;
  email: string;
  crm_user_id?: string;
}

export interface FeatureFlagDoc {
  _id: ObjectId;
  cid: string;
  flags: Record<string, boolean>;
  updated_at: Date;
}

export interface RunErrorDoc {
  code: string;
  message: string;
}

/** Where notes_total went, stored at the end of a run (issue #6, "Validation and closure"). */
export interface RunClosureDoc {
  balanced: boolean;
  notes_total: number | null;
  accounted: number;
  /** CRM ids seen but in no bucket (at most a sample; the count is in `unaccounted_count`). */
  unaccounted_ids: string[];
  unaccounted_count: number;
}

/** The counters a worker owns while it holds the lease; written as absolute values (DESIGN.md §4). */
export interface RunCounters {
  notes_total: number | null;
  notes_processed: number;
  notes_migrated: number;
  notes_skipped: number;
  notes_failed: number;
  notes_with_warnings: number;
  out_of_scope_count: number;
  progress_pct: number;
  failure_rate: number;
}

/**
 * What shaped a run, stamped when it is triggered and again by the worker that claims it
 * (DESIGN.md §11.9): enough to tell two runs of one tenant apart after a policy change.
 */
export interface RunConfigStampDoc {
  service_version: string;
  /** SHA-256 of the sanitizer policy (allowed tags, attributes, schemes) and the length limit. */
  sanitizer_policy_sha256: string;
  attachment_hosts: string[];
  note_type_allowlist: number[];
  page_size: number;
  max_failure_rate: number;
  /** Absent on runs stamped before MAX_WARNING_RATE existed (#13). */
  max_warning_rate?: number;
  match_pct_threshold: number;
}

/** One committed page of a run, for its throughput over time (`runs.recordPage` keeps the newest ones). */
export interface PageTimelineEntryDoc {
  page: number;
  /** When the page's checkpoint was written. */
  at: Date;
  /** The run's `notes_processed` after the page. */
  notes_processed: number;
}

/**
 * Options chosen when a run is triggered, stored on the run so the worker that claims it (maybe
 * another process, maybe after a crash) does what was asked. Only options the run's kind accepts
 * (`RunKindPolicy.acceptsOptions`) are ever set.
 */
export interface RunOptionsDoc {
  /** `dry_run`: also download every attachment and check its size cap and magic bytes (never uploads). */
  verify_attachments?: boolean;
}

/** Problems a run counted, by reason code, with a few note ids each: what `diagnose` reads (#13). */
export interface ProblemTallyDoc {
  /** Problem records by reason code (one per note and code). */
  by_reason: Partial<Record<ReasonCode, number>>;
  /** Up to 5 note ids per reason code, in the order they were met. */
  samples: Partial<Record<ReasonCode, string[]>>;
}

/** The dominant cause of a run's problems and what to do about it (DESIGN.md §11.4, `migration/diagnose.ts`). */
export interface DiagnosisDoc {
  reason_code: ReasonCode;
  /** `count` over its base: in-scope notes, or attachments for a blocked-attachments cause. */
  share: number;
  count: number;
  sample_note_ids: string[];
  /** What is wrong and what to fix, in one sentence. */
  hint: string;
  /** A systemic cause halts a run after the first page it shows on, whatever the failure rate. */
  systemic: boolean;
}

/** A count of distinct ids that resumes exactly: the ids while few, a HyperLogLog sketch beyond (`distinct-count.ts`). */
export interface DistinctCountDoc {
  ids: string[] | null;
  /** base64 of the sketch's registers, once there were too many ids to keep. */
  sketch: string | null;
}

/** Where a real run would halt, with what it would report then (the dry run itself goes on). */
export interface WouldHaltDoc {
  page: number;
  trigger: 'systemic' | 'failure_rate' | 'warning_rate';
  reason: string;
  failure_rate: number;
  warning_rate: number;
  diagnosis: DiagnosisDoc | null;
  /** The real run's counters and failure log at its halt. */
  at_halt: Omit<RunCounters, 'progress_pct' | 'notes_total'> & {
    problems_by_reason: Partial<Record<ReasonCode, number>>;
  };
}

/**
 * What a dry run accumulates page by page (DESIGN.md §11.3), checkpointed with its counters; the
 * predicted counts themselves are the dry run's own counters and problem tally. `outcome` and
 * `estimated_duration` are set when the dry run finishes.
 */
export interface ForecastDoc {
  verify_attachments: boolean;
  pages: number;
  /** Read-side time measured per page (fetch, validation, lookups, normalizing, attachment checks), summed. */
  read_ms: number;
  persons_seen: DistinctCountDoc;
  persons_found: DistinctCountDoc;
  owners: { by_crm_user_id: number; by_email: number; unmapped: number };
  attachments: {
    declared: number;
    would_store: number;
    /** Bytes checked by download (verify_attachments) or as CRM declared them. */
    would_store_bytes: number;
    blocked: number;
    /** Blocked attachments by host, most first (at most 50 hosts; the rest in `blocked_elsewhere`). */
    blocked_hosts: { host: string; count: number }[];
    blocked_elsewhere: number;
  };
  would_halt: WouldHaltDoc | null;
  outcome: {
    status: TerminalRunStatus;
    match_pct: number | null;
    notes_in_scope: number | null;
    halt_page: number | null;
  } | null;
  estimated_duration: {
    total_ms: number;
    read_ms_per_page: number;
    write_ms_per_note: number;
    basis: string;
  } | null;
}

/** Where a run continues: the last committed page, and the source's cursor after it (when it pages by cursor). */
export interface RunCheckpointDoc {
  page: number;
  total_pages: number | null;
  cursor?: string | null;
}

/** Reconcile and repair (DESIGN.md §11.5): in-scope CRM notes by verdict, plus CDP orphans. */
export type VerdictTotalsDoc = Record<ReconcileVerdict, number>;

/** What a repair run did, beside its verdict totals (`reconcile` on the same run). */
export interface RepairTotalsDoc {
  /** `missing` notes inserted (with the repair run's provenance). */
  inserted: number;
  /** `stale` notes replaced by an update filtered on what was read. */
  replaced: number;
  /** `stale` notes left as they are: edited meanwhile, or their new version lost an attachment. */
  replace_skipped: number;
}

/** What a rollback run did (DESIGN.md §11.6); a preview returns the same figures as `would_*`. */
export interface RollbackTotalsDoc {
  /** Untouched notes of the target run deleted. */
  notes_deleted: number;
  /** Notes of the target run kept: edited in CDP (before or during the rollback), or no fingerprint. */
  notes_kept: number;
  /** S3 objects of the deleted notes removed. */
  objects_deleted: number;
}

export interface RunDoc extends RunCounters {
  _id: string;
  cid: string;
  company_sso_id: string;
  /** What the run does (absent on runs stored before kinds existed: `migrate`; see `runKindOf`). */
  kind?: RunKind;
  mode: RunMode;
  status: RunStatus;
  job_id: string | null;
  /** The run whose checkpoint a `resume` run continues from. */
  resumed_from_run_id: string | null;
  /** The run this run acts on: the run a `rollback` undoes (absent for every other kind). */
  target_run_id?: string;
  /** On a `migrate`/`repair` run: the rollback run that undid it (set when that rollback succeeded). */
  rolled_back_by?: string;
  /** Reconcile and repair runs: verdict totals so far (checkpointed with the counters). */
  reconcile?: VerdictTotalsDoc;
  /** Repair runs: what was written and what was left. */
  repair?: RepairTotalsDoc;
  /** Rollback runs: what was deleted and kept. */
  rollback?: RollbackTotalsDoc;
  /**
   * Rollback runs: the notes the current page is about to delete, written (fenced on the lease
   * epoch) before the delete, so whoever claims the run next finishes their objects and counts.
   */
  rollback_intents?: RollbackIntentsDoc | null;
  /** Fencing token: the CID lock epoch of the worker that may write this run. 0 = not claimed yet. */
  lease_epoch: number;
  owner: string | null;
  /** Who asked for the run: the Basic-auth user, `cli`, or `wave:<id>` (absent on older runs). */
  triggered_by?: string;
  config?: RunConfigStampDoc;
  /** What the trigger asked for beyond kind and mode (absent: none). */
  options?: RunOptionsDoc;
  /** Problems so far by reason code (runs stored before #13 have none). */
  problem_tally?: ProblemTallyDoc;
  /** Why the run halted, when it did (#13): the cause and what to fix. */
  halt_diagnosis?: DiagnosisDoc | null;
  /** `dry_run` only: the forecast so far (#13). */
  forecast?: ForecastDoc;
  /** In-scope notes CRM holds (notes_total minus out-of-scope), known at the end of a run. */
  notes_in_scope: number | null;
  match_pct: number | null;
  /** CRM page size, fixed for the life of the run so checkpoints keep meaning the same notes. */
  page_size: number;
  checkpoint: RunCheckpointDoc;
  /** The newest committed pages, oldest first (absent on runs stored before #17). */
  page_timeline?: PageTimelineEntryDoc[];
  cancel_requested: boolean;
  halt_reason: string | null;
  error: RunErrorDoc | null;
  closure: RunClosureDoc | null;
  created_at: Date;
  started_at: Date | null;
  updated_at: Date;
  finished_at: Date | null;
}

export const LOCK_STATES = ['queued', 'running'] as const;
export type LockState = (typeof LOCK_STATES)[number];

/** The one place that says a CID is busy (DESIGN.md §3, "The CID lock document"). */
export interface LockDoc {
  _id: string;
  run_id: string;
  state: LockState;
  owner: string | null;
  epoch: number;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
}

export interface FailureDoc {
  _id: ObjectId;
  cid: string;
  company_sso_id: string;
  run_id: string;
  /** The kind of the run that recorded it (absent on records stored before kinds existed: `migrate`). */
  kind?: RunKind;
  /** null for run-level records (CRM_EXTRACT_FAILED, VALIDATION_SKIPPED). */
  legacy_crm_note_id: string | null;
  reason_code: ReasonCode;
  severity: Severity;
  details: Record<string, unknown>;
  created_at: Date;
}

/** A rollback page's write-ahead record: the notes it deletes next and their S3 objects. */
export interface RollbackIntentsDoc {
  page: number;
  notes: { note_id: string; object_keys: string[] }[];
}

export const SCRATCH_PURPOSES = ['seen'] as const;
export type ScratchPurpose = (typeof SCRATCH_PURPOSES)[number];

/**
 * Bounded per-run side data in `migration_run_scratch` (#14): the CRM ids a reconcile or repair
 * has seen, for the orphan pass. Removed when the run ends; a TTL index removes what a run that
 * never ended left behind.
 */
export interface RunScratchDoc {
  _id: ObjectId;
  run_id: string;
  purpose: ScratchPurpose;
  /** A legacy CRM note id. */
  key: string;
  /** The page that wrote it. */
  page: number;
  created_at: Date;
}

export interface SchemaMigrationDoc {
  _id: string;
  description: string;
  applied_at: Date;
}

/**
 * The shared CRM request budget (#16, DESIGN.md §11.7): one document per CRM token, changed only
 * by atomic single-document updates. Times are ms since the epoch on the callers' clocks (NTP).
 */
export interface CrmBudgetDoc {
  _id: string;
  /** CRM_RATE_LIMIT_PER_S of the process that started last: the ceiling of `rate_per_s`. */
  cap_per_s: number;
  /** CRM_BURST: slots that may lie in the past after an idle spell. */
  burst: number;
  /** The current shared rate (AIMD), requests/s. */
  rate_per_s: number;
  /** 1000 / rate_per_s: the spacing of consecutive slots, ms. */
  interval_ms: number;
  /** The next free slot: each taker gets this value and adds `interval_ms`. */
  next_slot_ms: number;
  /** A `Retry-After` pause for every process ends here. */
  paused_until_ms: number;
  last_cut_at_ms: number;
  last_raise_at_ms: number;
  last_rate_limited_at_ms: number;
  /** Slots taken since the document was created (every process). */
  requests_total: number;
  /** 429 answers reported (every process), and by CID. */
  rate_limited_total: number;
  rate_limited_by_cid: Record<string, number>;
  cuts_total: number;
  raises_total: number;
  pauses_total: number;
  created_at: Date;
  updated_at: Date;
}

/** One tenant of a wave. Scheduler-owned: only the wave's fenced scheduler writes members. */
export interface WaveMemberDoc {
  cid: string;
  company_sso_id: string;
  state: WaveMemberState;
  /** One of the first `canary` members that got a run (DESIGN.md §11.7). */
  canary: boolean;
  /** The run of the current attempt: chosen before the trigger, so a takeover can find it. */
  run_id: string | null;
  /** Every run this wave started for the member, oldest first. */
  run_ids: string[];
  /** Attempts started (a `resume` of the wave retries halted and failed members). */
  attempts: number;
  /** The wave generation of the current attempt (the stop rule counts the current generation only). */
  attempt_generation: number;
  /** Why it was skipped or refused for now (an error code), and what was said. */
  reason: { code: string; message: string } | null;
  /** Not before this time (a busy CID is retried later). */
  retry_at: Date | null;
  /** Why its run halted or failed (or, in a dry-run wave, would halt); null otherwise. */
  diagnosis: WaveMemberDiagnosisDoc | null;
  /** Copied from the run on each tick. */
  progress_pct: number;
  notes_processed: number;
  notes_total: number | null;
  /** Recent throughput of the run, notes/s (over the scheduler's last ~30 s). */
  notes_per_s: number | null;
  /** 429s this tenant got from CRM (from the shared budget; null without one). */
  crm_rate_limited: number | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/**
 * What a member's run said about why it stopped (#16), from its run document: the dominant cause
 * `diagnose` found (#13) when there is one, the halt reason and failure rate, the run's error. A
 * dry run completes even where a real run would halt: then `would_halt` says where and why.
 */
export interface WaveMemberDiagnosisDoc {
  /** The run's `halt_diagnosis`, or a dry run's diagnosis at its would-be halt; null when none was found. */
  cause: DiagnosisDoc | null;
  halt_reason: string | null;
  failure_rate: number;
  /** A failed run's error. */
  error: RunErrorDoc | null;
  /** A dry run's forecast: the page a real run would halt on, and what would trigger it. */
  would_halt: Pick<WouldHaltDoc, 'page' | 'trigger' | 'reason'> | null;
}

/** Why a wave paused, with the members that made it so. */
export interface WavePauseDoc {
  cause: 'operator' | 'stop_rule' | 'canary_failed';
  message: string;
  by: string;
  at: Date;
  members: {
    cid: string;
    state: WaveMemberState;
    run_id: string | null;
    diagnosis: WaveMemberDiagnosisDoc | null;
  }[];
}

/** What the fleet looked like at the scheduler's last tick (DESIGN.md §11.7 "fleet visibility"). */
export interface WaveFleetDoc {
  sampled_at: Date;
  budget: {
    rate_per_s: number;
    cap_per_s: number;
    burst: number;
    paused_until: Date | null;
    requests_total: number;
    rate_limited_total: number;
  } | null;
  /** Over the scheduler's last ~30 s; null without a budget (nothing shared to count). */
  requests_per_s: number | null;
  rate_limited_per_s: number | null;
  /** Wave notes processed per second over the same window. */
  notes_per_s: number | null;
}

export interface WaveDoc {
  _id: string;
  kind: WaveRunKind;
  state: WaveState;
  canary: number;
  max_parallel_tenants: number;
  stop_after_failed_tenants: number;
  members: WaveMemberDoc[];
  /**
   * The member CIDs while the wave has not ended; a unique multikey index on it keeps a tenant in
   * one active wave at a time. Unset at the end.
   */
  active_cids?: string[];
  /** Bumped by every resume and cancel: the Agenda job of the newest generation is the scheduler. */
  generation: number;
  /** The scheduler's lease, fenced like a run's (`epoch` only grows). */
  scheduler: { owner: string | null; epoch: number; expires_at: Date; generation: number };
  pause: WavePauseDoc | null;
  cancel: { by: string; at: Date } | null;
  fleet: WaveFleetDoc | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}
