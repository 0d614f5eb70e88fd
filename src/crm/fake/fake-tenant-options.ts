/**
 * What a fake CRM tenant holds: how many notes, which seed, and the mix of trouble planted in it.
 * Presets give a realistic tenant, a clean one (benchmarks), a messy one (halting by rate) and one
 * per systemic cause of DESIGN.md §11.4 (halting after page 1 with a diagnosis); every share can
 * be overridden, 0 included. Validation lists every bad option at once.
 */
import { ValidationError } from '../../errors.js';
import { hashString } from './seeded-random.js';

export const FAKE_TENANT_PRESETS = [
  'realistic',
  'clean',
  'messy',
  'contacts-missing',
  'attachments-blocked',
  'payloads-broken',
] as const;
export type FakeTenantPreset = (typeof FAKE_TENANT_PRESETS)[number];

/**
 * Shares are fractions (0..1). The first six split all notes into exclusive categories (the rest
 * are migrated); the others apply to migrated notes only, so every planted problem has exactly one
 * expected reason code whatever order the pipeline checks in.
 */
export interface FakeTenantMix {
  /** `crm_note_type_id` outside the in-scope set → `out_of_scope_count`, not a failure. */
  outOfScopeShare: number;
  /** Notes that break the note schema → `CRM_PAYLOAD_INVALID` (their id stays readable). */
  malformedShare: number;
  /** No `crm_person_id` (a note on a company or deal) → `CONTACT_NOT_MAPPED`. */
  noPersonShare: number;
  /** A person CDP has no contact for → `CONTACT_NOT_MAPPED`. */
  personNotInCdpShare: number;
  /** More than 10,000 characters after sanitizing → `NOTE_TOO_LONG`. */
  tooLongShare: number;
  /** Only `<script>`, no attachments → `NOTE_EMPTY_AFTER_SANITIZE`. */
  emptyAfterSanitizeShare: number;
  /** Of migrated notes: creator known to SSO by e-mail only, in different case. */
  ownerByEmailShare: number;
  /** Of migrated notes: creator unknown to SSO, with a `creator_name` → `OWNER_NOT_MAPPED`. */
  ownerUnmappedNamedShare: number;
  /** Of migrated notes: creator unknown to SSO, no name, no e-mail → `OWNER_NOT_MAPPED`. */
  ownerUnmappedAnonymousShare: number;
  /** Of migrated notes: a `crm_checkin` → `CRM_CHECKIN_DROPPED`. */
  checkinShare: number;
  /** Of migrated notes: mention anchors (`data-user-id` and `/users/{id}/edit_user`). */
  mentionShare: number;
  /** Of migrated notes: XSS junk next to real text (scripts, handlers, `javascript:` links). */
  xssShare: number;
  /** Of migrated notes: 1–3 attachments. */
  attachmentShare: number;
  /** Of migrated notes: a `<script>`-only body with good attachments → migrated, not empty. */
  emptyBodyWithAttachmentsShare: number;
  /** Of notes with attachments: one attachment whose bytes are another kind → `ATTACHMENT_TYPE_MISMATCH`. */
  attachmentTypeMismatchShare: number;
  /** Of notes with attachments: one attachment above the size cap → `ATTACHMENT_TOO_LARGE`. */
  attachmentTooLargeShare: number;
  /** Of notes with attachments: one attachment the file server answers 404 for → `ATTACHMENT_DOWNLOAD_FAILED`. */
  attachmentMissingShare: number;
  /** Of notes with attachments: one attachment on the cloud metadata address → `ATTACHMENT_SSRF_BLOCKED`. */
  attachmentSsrfShare: number;
  /**
   * Of notes with attachments (but not those whose body is empty, which keep theirs): every
   * attachment on `files.legacy-crm-cdn.example`, a host no allow-list has → `ATTACHMENT_SSRF_BLOCKED`.
   */
  attachmentUnlistedHostShare: number;
}

const NO_TROUBLE: FakeTenantMix = {
  outOfScopeShare: 0,
  malformedShare: 0,
  noPersonShare: 0,
  personNotInCdpShare: 0,
  tooLongShare: 0,
  emptyAfterSanitizeShare: 0,
  ownerByEmailShare: 0,
  ownerUnmappedNamedShare: 0,
  ownerUnmappedAnonymousShare: 0,
  checkinShare: 0,
  mentionShare: 0.25,
  xssShare: 0,
  attachmentShare: 0,
  emptyBodyWithAttachmentsShare: 0,
  attachmentTypeMismatchShare: 0,
  attachmentTooLargeShare: 0,
  attachmentMissingShare: 0,
  attachmentSsrfShare: 0,
  attachmentUnlistedHostShare: 0,
};

/** Mostly successful: 0.4% failures (well under the 1% halt), a few warnings of every kind. */
const REALISTIC: FakeTenantMix = {
  outOfScopeShare: 0.06,
  malformedShare: 0.0005,
  noPersonShare: 0.001,
  personNotInCdpShare: 0.0015,
  tooLongShare: 0.0005,
  emptyAfterSanitizeShare: 0.0005,
  ownerByEmailShare: 0.1,
  ownerUnmappedNamedShare: 0.04,
  ownerUnmappedAnonymousShare: 0.01,
  checkinShare: 0.03,
  mentionShare: 0.25,
  xssShare: 0.03,
  attachmentShare: 0.12,
  emptyBodyWithAttachmentsShare: 0.003,
  attachmentTypeMismatchShare: 0.03,
  attachmentTooLargeShare: 0.01,
  attachmentMissingShare: 0.015,
  attachmentSsrfShare: 0.01,
  attachmentUnlistedHostShare: 0,
};

export const FAKE_TENANT_MIXES: Record<FakeTenantPreset, FakeTenantMix> = {
  realistic: REALISTIC,
  /** Nothing goes wrong: all in scope, all mapped, no attachments. For benchmarks. */
  clean: NO_TROUBLE,
  /** About 3% failures: a run halts. */
  messy: {
    outOfScopeShare: 0.1,
    malformedShare: 0.005,
    noPersonShare: 0.008,
    personNotInCdpShare: 0.01,
    tooLongShare: 0.004,
    emptyAfterSanitizeShare: 0.003,
    ownerByEmailShare: 0.15,
    ownerUnmappedNamedShare: 0.1,
    ownerUnmappedAnonymousShare: 0.05,
    checkinShare: 0.1,
    mentionShare: 0.4,
    xssShare: 0.2,
    attachmentShare: 0.3,
    emptyBodyWithAttachmentsShare: 0.01,
    attachmentTypeMismatchShare: 0.1,
    attachmentTooLargeShare: 0.05,
    attachmentMissingShare: 0.05,
    attachmentSsrfShare: 0.03,
    attachmentUnlistedHostShare: 0,
  },
  /** Systemic: CDP has contacts for few of the persons (contacts never synced): halts after page 1. */
  'contacts-missing': { ...REALISTIC, personNotInCdpShare: 0.75 },
  /** Systemic: every attachment is on a host the allow-list misses: halts after page 1. */
  'attachments-blocked': {
    ...REALISTIC,
    attachmentShare: 0.5,
    emptyBodyWithAttachmentsShare: 0,
    attachmentUnlistedHostShare: 1,
  },
  /** Systemic: most payloads break the contract (a changed CRM API): halts after page 1. */
  'payloads-broken': { ...REALISTIC, malformedShare: 0.7 },
};

export interface FakeTenantOptions {
  cid: string;
  companySsoId: string;
  noteCount: number;
  /** Same seed, same notes, byte for byte. Default 1. */
  seed?: number;
  /** Default `realistic`. */
  preset?: FakeTenantPreset;
  /** Overrides on top of the preset. */
  mix?: Partial<FakeTenantMix>;
  /** Id of note 0; note i has id `firstNoteId + i`. Default derived from the CID. */
  firstNoteId?: number;
  /** Persons CDP has contacts for. Default `max(10, ceil(noteCount / 4))`. */
  personPoolSize?: number;
  /** Creators known to SSO by CRM user id. Default 25. */
  userPoolSize?: number;
  /** Size of a too-large attachment. Default 25 MiB + 64 KiB (just above MAX_ATTACHMENT_BYTES' default). */
  oversizedAttachmentBytes?: number;
  /** Note types the migration keeps (NOTE_TYPE_ALLOWLIST). Default [1, 6]. */
  inScopeNoteTypeIds?: number[];
}

/** Options with every default applied; what the generator, the plan and the CDP seed read. */
export interface FakeTenant {
  cid: string;
  companySsoId: string;
  noteCount: number;
  seed: number;
  preset: FakeTenantPreset;
  mix: Readonly<FakeTenantMix>;
  firstNoteId: number;
  personIdBase: number;
  personPoolSize: number;
  /** Persons CRM has and CDP does not (ids right after the pool). */
  ghostPersonPoolSize: number;
  creatorIdBase: number;
  userPoolSize: number;
  /** Creators SSO knows by e-mail only / unmapped-named / unmapped-anonymous. */
  emailOnlyUserPoolSize: number;
  unmappedCreatorPoolSize: number;
  oversizedAttachmentBytes: number;
  inScopeNoteTypeIds: readonly number[];
  outOfScopeNoteTypeIds: readonly number[];
}

const MAX_NOTE_COUNT = 50_000_000;
export const DEFAULT_OVERSIZED_ATTACHMENT_BYTES = 25 * 1024 * 1024 + 64 * 1024;
const CATEGORY_SHARES = [
  'outOfScopeShare',
  'malformedShare',
  'noPersonShare',
  'personNotInCdpShare',
  'tooLongShare',
  'emptyAfterSanitizeShare',
] as const;
const OWNER_SHARES = ['ownerByEmailShare', 'ownerUnmappedNamedShare', 'ownerUnmappedAnonymousShare'] as const;
const ATTACHMENT_PROBLEM_SHARES = [
  'attachmentTypeMismatchShare',
  'attachmentTooLargeShare',
  'attachmentMissingShare',
  'attachmentSsrfShare',
] as const;

/** Applies defaults and checks every option; throws `ValidationError` listing all problems. */
export function resolveFakeTenant(options: FakeTenantOptions): FakeTenant {
  const problems: string[] = [];
  const preset = options.preset ?? 'realistic';
  if (!FAKE_TENANT_PRESETS.includes(preset)) {
    problems.push(`preset must be one of ${FAKE_TENANT_PRESETS.join(', ')}, got ${JSON.stringify(preset)}`);
  }
  const mix: FakeTenantMix = { ...(FAKE_TENANT_MIXES[preset] ?? NO_TROUBLE), ...options.mix };
  for (const [key, value] of Object.entries(mix)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
      problems.push(`mix.${key} must be a fraction from 0 to 1, got ${JSON.stringify(value)}`);
    }
  }
  const sumOf = (keys: readonly (keyof FakeTenantMix)[]) => keys.reduce((s, k) => s + mix[k], 0);
  if (sumOf(CATEGORY_SHARES) > 1 + 1e-9) problems.push(`${CATEGORY_SHARES.join(' + ')} must not exceed 1`);
  if (sumOf(OWNER_SHARES) > 1 + 1e-9) problems.push(`${OWNER_SHARES.join(' + ')} must not exceed 1`);
  if (sumOf(ATTACHMENT_PROBLEM_SHARES) > 1 + 1e-9) {
    problems.push(`${ATTACHMENT_PROBLEM_SHARES.join(' + ')} must not exceed 1`);
  }
  if (typeof options.cid !== 'string' || options.cid.trim() === '') {
    problems.push(`cid must be a non-empty string, got ${JSON.stringify(options.cid)}`);
  }
  if (typeof options.companySsoId !== 'string' || options.companySsoId.trim() === '') {
    problems.push(`companySsoId must be a non-empty string, got ${JSON.stringify(options.companySsoId)}`);
  }
  const isInt = (v: unknown, min: number, max: number) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
  if (!isInt(options.noteCount, 0, MAX_NOTE_COUNT)) {
    problems.push(`noteCount must be an integer from 0 to ${MAX_NOTE_COUNT}, got ${options.noteCount}`);
  }
  const seed = options.seed ?? 1;
  if (!isInt(seed, 0, 2 ** 32 - 1)) problems.push(`seed must be an integer from 0 to 2^32-1, got ${seed}`);
  const cidHash = hashString(String(options.cid));
  const firstNoteId = options.firstNoteId ?? (1 + (cidHash % 9_000)) * 1_000_000 + 1;
  if (!isInt(firstNoteId, 1, Number.MAX_SAFE_INTEGER - MAX_NOTE_COUNT)) {
    problems.push(`firstNoteId must be a positive integer, got ${firstNoteId}`);
  }
  const personPoolSize = options.personPoolSize ?? Math.max(10, Math.ceil((options.noteCount || 0) / 4));
  if (!isInt(personPoolSize, 1, MAX_NOTE_COUNT)) {
    problems.push(`personPoolSize must be a positive integer, got ${personPoolSize}`);
  }
  const userPoolSize = options.userPoolSize ?? 25;
  if (!isInt(userPoolSize, 1, 100_000)) {
    problems.push(`userPoolSize must be an integer from 1 to 100000, got ${userPoolSize}`);
  }
  const oversized = options.oversizedAttachmentBytes ?? DEFAULT_OVERSIZED_ATTACHMENT_BYTES;
  if (!isInt(oversized, 1024, 2 ** 40)) {
    problems.push(`oversizedAttachmentBytes must be an integer of at least 1024, got ${oversized}`);
  }
  const inScope = options.inScopeNoteTypeIds ?? [1, 6];
  if (inScope.length === 0 || !inScope.every((t) => isInt(t, 0, 1_000_000))) {
    problems.push(`inScopeNoteTypeIds must be non-negative integers, got ${JSON.stringify(inScope)}`);
  }
  if (problems.length > 0) {
    throw new ValidationError(
      `Invalid fake CRM tenant ${JSON.stringify(options.cid)}: ${problems.join('; ')}`,
      {
        problems,
      },
    );
  }
  const outOfScope = [2, 3, 4, 5, 7, 8, 9, 10, 11, 12].filter((t) => !inScope.includes(t)).slice(0, 6);
  const minorPool = Math.max(1, Math.ceil(userPoolSize / 5));
  return Object.freeze({
    cid: options.cid,
    companySsoId: options.companySsoId,
    noteCount: options.noteCount,
    seed,
    preset,
    mix: Object.freeze(mix),
    firstNoteId,
    personIdBase: (1 + (hashString(`${options.cid}/persons`) % 9_000)) * 1_000_000,
    personPoolSize,
    ghostPersonPoolSize: Math.max(1, Math.ceil(personPoolSize / 10)),
    creatorIdBase: (1 + (hashString(`${options.cid}/users`) % 9_000)) * 1_000,
    userPoolSize,
    emailOnlyUserPoolSize: minorPool,
    unmappedCreatorPoolSize: minorPool,
    oversizedAttachmentBytes: oversized,
    inScopeNoteTypeIds: Object.freeze([...inScope]),
    outOfScopeNoteTypeIds: Object.freeze(outOfScope),
  });
}
