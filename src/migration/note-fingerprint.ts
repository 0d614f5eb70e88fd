/**
 * Provenance of a migrated note (DESIGN.md §11.2): the fingerprint of what the migration wrote,
 * and whether a stored note is still untouched. Pure: fields in, hex digest or verdict out.
 *
 * Canonical form (fixed; changing it changes every fingerprint, so it needs a new field name):
 * the seven fields below and only those; `legacy_owner_label` absent is `null`; object keys
 * sorted by code unit, recursively (attachment objects too; array order kept); a `Date` is its
 * `toISOString()` (UTC, millisecond precision — what MongoDB stores); strings and numbers as
 * `JSON.stringify` writes them; no whitespace. The digest is lowercase hex SHA-256 of the UTF-8 text.
 */
import { createHash } from 'node:crypto';

import type { NoteAttachmentDoc } from '../db/documents.js';

/** The fields a migration writes that a person can change in CDP (§11.2). */
export const FINGERPRINT_FIELDS = [
  'note',
  'contact_id',
  'owner_id',
  'legacy_owner_label',
  'attachments',
  'created_at',
  'updated_at',
] as const;

export interface FingerprintedFields {
  note: string;
  contact_id: string;
  owner_id: string | null;
  legacy_owner_label?: string | null | undefined;
  attachments: readonly NoteAttachmentDoc[];
  created_at: Date;
  updated_at: Date;
}

export function fingerprintOf(fields: FingerprintedFields): string {
  const picked: Record<string, unknown> = {
    note: fields.note,
    contact_id: fields.contact_id,
    owner_id: fields.owner_id,
    legacy_owner_label: fields.legacy_owner_label ?? null,
    attachments: fields.attachments,
    created_at: fields.created_at,
    updated_at: fields.updated_at,
  };
  return createHash('sha256').update(canonicalJson(picked), 'utf8').digest('hex');
}

/** A stored note with whatever provenance it carries (notes migrated before #12 have none). */
export interface NoteWithProvenance extends Partial<FingerprintedFields> {
  legacy_fingerprint?: string | undefined;
}

export type Provenance = 'untouched' | 'touched' | 'unknown';

/**
 * `unknown` when the note has no fingerprint (migrated before provenance existed, or written by a
 * person): §11 features never delete such a note and report it instead.
 */
export function provenanceOf(doc: NoteWithProvenance): Provenance {
  if (typeof doc.legacy_fingerprint !== 'string') return 'unknown';
  if (!hasFingerprintedShape(doc)) return 'touched';
  return fingerprintOf(doc) === doc.legacy_fingerprint ? 'untouched' : 'touched';
}

/** True only when the note carries a fingerprint and its fields still hash to it. */
export function isUntouched(doc: NoteWithProvenance): boolean {
  return provenanceOf(doc) === 'untouched';
}

function hasFingerprintedShape(doc: NoteWithProvenance): doc is NoteWithProvenance & FingerprintedFields {
  return (
    typeof doc.note === 'string' &&
    typeof doc.contact_id === 'string' &&
    (doc.owner_id === null || typeof doc.owner_id === 'string') &&
    Array.isArray(doc.attachments) &&
    doc.created_at instanceof Date &&
    doc.updated_at instanceof Date
  );
}

/** JSON with sorted keys and ISO dates; `undefined` object members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v: unknown) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`canonicalJson: ${value} has no JSON form`);
  }
  return JSON.stringify(value ?? null);
}
