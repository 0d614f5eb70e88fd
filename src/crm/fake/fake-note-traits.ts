/**
 * The planted facts of fake note i: its category, person, creator, check-in and attachments, and
 * from them the outcome the migration should reach. Cheap and faker-free, so the plan can walk
 * 100,000 notes in milliseconds; the generator turns traits into HTML and JSON.
 */
import type { NoteFailureCode, NoteWarningCode } from '../../domain.js';
import type { FakeTenant } from './fake-tenant-options.js';
import { createSeededRandom, mixSeed, spreadUnit } from './seeded-random.js';

export const FAKE_NOTE_CATEGORIES = [
  'malformed',
  'no_person',
  'person_not_in_cdp',
  'too_long',
  'empty_after_sanitize',
  'out_of_scope',
  'migrated',
] as const;
export type FakeNoteCategory = (typeof FAKE_NOTE_CATEGORIES)[number];

export const OWNER_KINDS = ['crm_user_id', 'email', 'unmapped_named', 'unmapped_anonymous'] as const;
export type OwnerKind = (typeof OWNER_KINDS)[number];

export const ATTACHMENT_KINDS = ['png', 'jpeg', 'mp3', 'ogg', 'mp4', 'pdf', 'xlsx', 'docx', 'doc'] as const;
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];
/** What the bytes really are: an attachment kind, or a Windows executable (a type mismatch). */
export type BytesKind = AttachmentKind | 'exe';

export const ATTACHMENT_OUTCOMES = [
  'ok',
  'type_mismatch',
  'too_large',
  'download_failed',
  'ssrf_blocked',
  'unlisted_host',
] as const;
export type AttachmentOutcome = (typeof ATTACHMENT_OUTCOMES)[number];

export const MALFORMATIONS = [
  'type_id_as_string',
  'bad_created_at',
  'missing_note',
  'images_not_array',
  'person_id_not_integer',
] as const;
export type Malformation = (typeof MALFORMATIONS)[number];

export type AttachmentList = 'images' | 'audios' | 'attachments';

export interface FakeAttachmentTraits {
  /** Position across the note's three lists; part of the file URL. */
  slot: number;
  list: AttachmentList;
  declaredKind: AttachmentKind;
  bytesKind: BytesKind;
  outcome: AttachmentOutcome;
  sizeBytes: number;
}

export interface FakeNoteTraits {
  index: number;
  id: number;
  category: FakeNoteCategory;
  noteTypeId: number;
  personId: number | null;
  companyId: number | null;
  dealId: number | null;
  ticketId: number | null;
  owner: OwnerKind;
  creatorId: number;
  checkin: boolean;
  mentions: boolean;
  xss: boolean;
  /** The body is `<script>` only (empty after sanitizing). */
  scriptOnlyBody: boolean;
  malformation: Malformation | null;
  attachments: FakeAttachmentTraits[];
  createdAtMs: number;
  updatedAtMs: number;
}

export interface ExpectedNoteOutcome {
  status: 'migrated' | 'failed' | 'out_of_scope';
  failure: NoteFailureCode | null;
  /** At most one record per code: a note has at most one problem attachment. */
  warnings: NoteWarningCode[];
}

/** Every note is created after this instant, 11 minutes after the previous one plus jitter. */
const EPOCH_MS = Date.UTC(2016, 0, 4, 1, 0, 0);
const NOTE_SPACING_MS = 11 * 60_000;

const SALT_TRAITS = 0x7a11;
/** Its own stream, so planting unlisted hosts leaves every other trait of every tenant as it was. */
const SALT_UNLISTED_HOST = 0x4057;

const LIST_OF: Record<AttachmentKind, AttachmentList> = {
  png: 'images',
  jpeg: 'images',
  mp3: 'audios',
  ogg: 'audios',
  mp4: 'audios',
  pdf: 'attachments',
  xlsx: 'attachments',
  docx: 'attachments',
  doc: 'attachments',
};

const KIND_WEIGHTS: ReadonlyArray<readonly [AttachmentKind, number]> = [
  ['png', 22],
  ['jpeg', 26],
  ['mp3', 8],
  ['ogg', 4],
  ['mp4', 5],
  ['pdf', 16],
  ['xlsx', 6],
  ['docx', 9],
  ['doc', 4],
];

/** Honest size ranges in bytes, small enough that a 5,000-note demo moves tens of MB, not GB. */
const SIZE_RANGE: Record<AttachmentKind, readonly [number, number]> = {
  png: [1_024, 64 * 1024],
  jpeg: [2_048, 96 * 1024],
  mp3: [8 * 1024, 128 * 1024],
  ogg: [8 * 1024, 96 * 1024],
  mp4: [32 * 1024, 256 * 1024],
  pdf: [2_048, 96 * 1024],
  xlsx: [4 * 1024, 48 * 1024],
  docx: [4 * 1024, 48 * 1024],
  doc: [8 * 1024, 48 * 1024],
};

/** Declared kind → the different kind its bytes really are (kinds the type mapping tells apart). */
const MISMATCHES: ReadonlyArray<readonly [AttachmentKind, BytesKind]> = [
  ['png', 'pdf'],
  ['pdf', 'png'],
  ['mp3', 'exe'],
  ['xlsx', 'pdf'],
];
const OVERSIZED_KINDS: readonly AttachmentKind[] = ['pdf', 'mp4', 'png'];

function categoryOf(tenant: FakeTenant, index: number): FakeNoteCategory {
  const m = tenant.mix;
  const u = spreadUnit(tenant.seed, index);
  let edge = 0;
  const bands: ReadonlyArray<readonly [FakeNoteCategory, number]> = [
    ['malformed', m.malformedShare],
    ['no_person', m.noPersonShare],
    ['person_not_in_cdp', m.personNotInCdpShare],
    ['too_long', m.tooLongShare],
    ['empty_after_sanitize', m.emptyAfterSanitizeShare],
    ['out_of_scope', m.outOfScopeShare],
  ];
  for (const [category, share] of bands) {
    edge += share;
    if (u < edge) return category;
  }
  return 'migrated';
}

/** The traits of note `index` (0-based). Pure and O(1): no other note is looked at. */
export function fakeNoteTraits(tenant: FakeTenant, index: number): FakeNoteTraits {
  const r = createSeededRandom(mixSeed(tenant.seed, index, SALT_TRAITS));
  const m = tenant.mix;
  const category = categoryOf(tenant, index);
  const migrated = category === 'migrated';

  const inScopeType = r.chance(0.85)
    ? (tenant.inScopeNoteTypeIds[0] ?? 1)
    : r.pick(tenant.inScopeNoteTypeIds);
  const noteTypeId = category === 'out_of_scope' ? r.pick(tenant.outOfScopeNoteTypeIds) : inScopeType;

  const knownPerson = tenant.personIdBase + r.int(0, tenant.personPoolSize - 1);
  const ghostPerson = tenant.personIdBase + tenant.personPoolSize + r.int(0, tenant.ghostPersonPoolSize - 1);
  const personId =
    category === 'no_person' ? null : category === 'person_not_in_cdp' ? ghostPerson : knownPerson;
  // Person first even when company, deal or ticket ids are set too (DESIGN.md §7).
  const companyId = r.chance(category === 'no_person' ? 0.9 : 0.4) ? 500_000 + r.int(0, 99_999) : null;
  const dealId = r.chance(0.2) ? 700_000 + r.int(0, 99_999) : null;
  const ticketId = r.chance(0.1) ? 900_000 + r.int(0, 99_999) : null;

  const ownerDraw = r.next();
  let owner: OwnerKind = 'crm_user_id';
  if (migrated) {
    if (ownerDraw < m.ownerByEmailShare) owner = 'email';
    else if (ownerDraw < m.ownerByEmailShare + m.ownerUnmappedNamedShare) owner = 'unmapped_named';
    else if (ownerDraw < m.ownerByEmailShare + m.ownerUnmappedNamedShare + m.ownerUnmappedAnonymousShare) {
      owner = 'unmapped_anonymous';
    }
  }
  const creatorId = creatorIdFor(tenant, owner, r.next());

  const checkin = migrated && r.chance(m.checkinShare);
  const mentions = r.chance(m.mentionShare);
  const xss = migrated && r.chance(m.xssShare);
  const emptyWithAttachments = migrated && r.chance(m.emptyBodyWithAttachmentsShare);
  const hasAttachments = migrated && (emptyWithAttachments || r.chance(m.attachmentShare));
  const unlistedHost =
    hasAttachments &&
    !emptyWithAttachments &&
    createSeededRandom(mixSeed(tenant.seed, index, SALT_UNLISTED_HOST)).chance(m.attachmentUnlistedHostShare);
  const attachments = hasAttachments ? attachmentTraits(tenant, r, emptyWithAttachments, unlistedHost) : [];
  const malformation = category === 'malformed' ? r.pick(MALFORMATIONS) : null;

  const createdAtMs = EPOCH_MS + index * NOTE_SPACING_MS + r.int(0, NOTE_SPACING_MS - 1_000);
  const updatedAtMs = r.chance(0.6) ? createdAtMs : createdAtMs + r.int(60_000, 30 * 86_400_000);

  return {
    index,
    id: tenant.firstNoteId + index,
    category,
    noteTypeId,
    personId,
    companyId,
    dealId,
    ticketId,
    owner,
    creatorId,
    checkin,
    mentions,
    xss,
    scriptOnlyBody: category === 'empty_after_sanitize' || emptyWithAttachments,
    malformation,
    attachments,
    createdAtMs,
    updatedAtMs,
  };
}

/** Creator ids: [SSO by CRM id | SSO by e-mail only | unmapped, named | unmapped, anonymous]. */
export function creatorIdFor(tenant: FakeTenant, owner: OwnerKind, u: number): number {
  const pools: Record<OwnerKind, readonly [number, number]> = {
    crm_user_id: [0, tenant.userPoolSize],
    email: [tenant.userPoolSize, tenant.emailOnlyUserPoolSize],
    unmapped_named: [tenant.userPoolSize + tenant.emailOnlyUserPoolSize, tenant.unmappedCreatorPoolSize],
    unmapped_anonymous: [
      tenant.userPoolSize + tenant.emailOnlyUserPoolSize + tenant.unmappedCreatorPoolSize,
      tenant.unmappedCreatorPoolSize,
    ],
  };
  const [start, size] = pools[owner];
  return tenant.creatorIdBase + start + Math.floor(u * size);
}

/** Which pool a creator id belongs to (inverse of `creatorIdFor`). */
export function ownerKindOf(tenant: FakeTenant, creatorId: number): OwnerKind {
  const offset = creatorId - tenant.creatorIdBase;
  if (offset < tenant.userPoolSize) return 'crm_user_id';
  if (offset < tenant.userPoolSize + tenant.emailOnlyUserPoolSize) return 'email';
  if (offset < tenant.userPoolSize + tenant.emailOnlyUserPoolSize + tenant.unmappedCreatorPoolSize) {
    return 'unmapped_named';
  }
  return 'unmapped_anonymous';
}

function attachmentTraits(
  tenant: FakeTenant,
  r: ReturnType<typeof createSeededRandom>,
  allGood: boolean,
  /** Every attachment on a host no allow-list has (drawn outside `r`, which draws as before). */
  unlistedHost: boolean,
): FakeAttachmentTraits[] {
  const m = tenant.mix;
  const count = r.weighted([
    [1, 6],
    [2, 3],
    [3, 1],
  ] as const);
  // At most one problem attachment per note, always slot 0: one warning record per note and code.
  const problemDraw = r.next();
  let problem: AttachmentOutcome = 'ok';
  if (!allGood) {
    let edge = 0;
    for (const [outcome, share] of [
      ['type_mismatch', m.attachmentTypeMismatchShare],
      ['too_large', m.attachmentTooLargeShare],
      ['download_failed', m.attachmentMissingShare],
      ['ssrf_blocked', m.attachmentSsrfShare],
    ] as const) {
      edge += share;
      if (problemDraw < edge) {
        problem = outcome;
        break;
      }
    }
  }
  const result: FakeAttachmentTraits[] = [];
  for (let slot = 0; slot < count; slot++) {
    const outcome = slot === 0 ? problem : 'ok';
    let declaredKind = r.weighted(KIND_WEIGHTS);
    let bytesKind: BytesKind = declaredKind;
    const [min, max] = SIZE_RANGE[declaredKind];
    let sizeBytes = r.int(min, max);
    if (outcome === 'type_mismatch') {
      [declaredKind, bytesKind] = r.pick(MISMATCHES);
    } else if (outcome === 'too_large') {
      declaredKind = r.pick(OVERSIZED_KINDS);
      bytesKind = declaredKind;
      sizeBytes = tenant.oversizedAttachmentBytes;
    }
    // Decided after the draws above, so the rest of the tenant is generated exactly as without it.
    const final: AttachmentOutcome = unlistedHost ? 'unlisted_host' : outcome;
    result.push({ slot, list: LIST_OF[declaredKind], declaredKind, bytesKind, outcome: final, sizeBytes });
  }
  return result;
}

const WARNING_OF: Record<Exclude<AttachmentOutcome, 'ok'>, NoteWarningCode> = {
  type_mismatch: 'ATTACHMENT_TYPE_MISMATCH',
  too_large: 'ATTACHMENT_TOO_LARGE',
  download_failed: 'ATTACHMENT_DOWNLOAD_FAILED',
  ssrf_blocked: 'ATTACHMENT_SSRF_BLOCKED',
  unlisted_host: 'ATTACHMENT_SSRF_BLOCKED',
};

const FAILURE_OF: Record<Exclude<FakeNoteCategory, 'migrated' | 'out_of_scope'>, NoteFailureCode> = {
  malformed: 'CRM_PAYLOAD_INVALID',
  no_person: 'CONTACT_NOT_MAPPED',
  person_not_in_cdp: 'CONTACT_NOT_MAPPED',
  too_long: 'NOTE_TOO_LONG',
  empty_after_sanitize: 'NOTE_EMPTY_AFTER_SANITIZE',
};

/** What the migration should make of a note with these traits (DESIGN.md §5). */
export function expectedNoteOutcome(traits: FakeNoteTraits): ExpectedNoteOutcome {
  if (traits.category === 'out_of_scope') return { status: 'out_of_scope', failure: null, warnings: [] };
  if (traits.category !== 'migrated') {
    return { status: 'failed', failure: FAILURE_OF[traits.category], warnings: [] };
  }
  const warnings: NoteWarningCode[] = [];
  if (traits.owner === 'unmapped_named' || traits.owner === 'unmapped_anonymous')
    warnings.push('OWNER_NOT_MAPPED');
  if (traits.checkin) warnings.push('CRM_CHECKIN_DROPPED');
  // One record per note and code, as the pipeline groups them.
  for (const a of traits.attachments) {
    if (a.outcome !== 'ok' && !warnings.includes(WARNING_OF[a.outcome])) warnings.push(WARNING_OF[a.outcome]);
  }
  return { status: 'migrated', failure: null, warnings };
}
