/**
 * The stored shapes of every collection the service touches (DESIGN.md §3), snake_case as in
 * MongoDB. Only types: the queries live in one repository file per collection.
 */
import type { ObjectId } from 'mongodb';

import type { AttachmentType, ReasonCode, RunMode, RunStatus, Severity } from '../domain.js';

export const COLLECTIONS = {
  contactNotes: 'contact_notes',
  contacts: 'contacts',
  users: 'users',
  featureFlags: 'feature_flags',
  runs: 'migration_runs',
  locks: 'migration_locks',
  failures: 'migration_failures',
  schemaMigrations: 'schema_migrations',
  agendaJobs: 'agendaJobs',
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

export interface RunDoc {
  _id: string;
  cid: string;
  company_sso_id: string;
  mode: RunMode;
  status: RunStatus;
  job_id: string | null;
  /** The run whose checkpoint a `resume` run continues from. */
  resumed_from_run_id: string | null;
  /** Fencing token: the CID lock epoch of the worker that may write this run. 0 = not claimed yet. */
  lease_epoch: number;
  owner: string | null;
  notes_total: number | null;
  /** In-scope notes CRM holds (notes_total minus out-of-scope), known at the end of a run. */
  notes_in_scope: number | null;
  notes_processed: number;
  notes_migrated: number;
  notes_skipped: number;
  notes_failed: number;
  notes_with_warnings: number;
  out_of_scope_count: number;
  progress_pct: number;
  failure_rate: number;
  match_pct: number | null;
  /** CRM page size, fixed for the life of the run so checkpoints keep meaning the same notes. */
  page_size: number;
  checkpoint: { page: number; total_pages: number | null };
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
  /** null for run-level records (CRM_EXTRACT_FAILED, VALIDATION_SKIPPED). */
  legacy_crm_note_id: string | null;
  reason_code: ReasonCode;
  severity: Severity;
  details: Record<string, unknown>;
  created_at: Date;
}

export interface SchemaMigrationDoc {
  _id: string;
  description: string;
  applied_at: Date;
}
