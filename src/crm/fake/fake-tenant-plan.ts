/**
 * The plan of a fake tenant: exactly what was planted and what a correct migration must report
 * (DESIGN.md §4–§5), computed by walking every note's traits once in O(1) memory. The demo and CI
 * compare the final run report against it.
 */
import {
  NOTE_FAILURE_CODES,
  NOTE_WARNING_CODES,
  type NoteFailureCode,
  type NoteWarningCode,
} from '../../domain.js';
import {
  ATTACHMENT_KINDS,
  ATTACHMENT_OUTCOMES,
  type AttachmentKind,
  type AttachmentOutcome,
  expectedNoteOutcome,
  type FakeNoteTraits,
  fakeNoteTraits,
  OWNER_KINDS,
  type OwnerKind,
} from './fake-note-traits.js';
import type { FakeTenant, FakeTenantMix, FakeTenantPreset } from './fake-tenant-options.js';

type PlannedFailureCode = Exclude<NoteFailureCode, 'WRITE_FAILED'>;

export interface FakeTenantPlan {
  cid: string;
  companySsoId: string;
  seed: number;
  preset: FakeTenantPreset;
  mix: FakeTenantMix;
  firstNoteId: number;
  lastNoteId: number | null;
  /** `notes_total`: every person note CRM holds. */
  notesTotal: number;
  /** Notes whose type is in scope, invalid notes included (they cannot be classified). */
  inScope: number;
  /** `out_of_scope_count`. */
  outOfScope: number;
  /** New notes a first run writes (`notes_migrated`). A re-run skips them all. */
  expectedMigrated: number;
  /** In-scope notes not migrated (`notes_failed`). */
  expectedFailed: number;
  /** expectedFailed / inScope (`failure_rate` at the end of a run that did not halt). */
  expectedFailureRate: number;
  /** expectedMigrated / inScope (`match_pct` at the end of a first run). */
  expectedMatchPct: number | null;
  /** Migrated notes with at least one warning (`notes_with_warnings`). */
  notesWithWarnings: number;
  /** Failure records by code: one per failed note. */
  failures: Record<PlannedFailureCode, number>;
  /** Warning records by code: at most one per note and code. */
  warnings: Record<NoteWarningCode, number>;
  contactNotMapped: { noPersonId: number; personNotInCdp: number };
  /**
   * Distinct CRM persons of the notes a run looks contacts up for (valid, in scope), and those CDP
   * has a contact for: a forecast's contact coverage.
   */
  persons: { seen: number; found: number };
  /** How migrated notes' creators resolve. */
  owners: Record<OwnerKind, number>;
  /** Migrated notes whose body sanitizes to nothing but which keep attachments. */
  emptyBodyWithAttachments: number;
  attachments: {
    /** On migrated notes (the only ones the pipeline downloads). */
    total: number;
    byOutcome: Record<AttachmentOutcome, number>;
    byDeclaredKind: Record<AttachmentKind, number>;
    /** Bytes of the attachments that should land in S3. */
    okBytes: number;
  };
  /** What `seedCdp` writes for this tenant. */
  cdp: { contacts: number; users: number };
}

const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** The notes a plan walks: by default the tenant's own; a mutated tenant passes what CRM serves now. */
export interface FakePlanNotes {
  count: number;
  traitsAt(position: number): FakeNoteTraits;
}

export function computeFakeTenantPlan(
  tenant: FakeTenant,
  notes: FakePlanNotes = { count: tenant.noteCount, traitsAt: (i) => fakeNoteTraits(tenant, i) },
): FakeTenantPlan {
  // Every code of domain.ts, so a new one shows up in the plan (at 0) without an edit here.
  const failures = zeros(NOTE_FAILURE_CODES.filter((c): c is PlannedFailureCode => c !== 'WRITE_FAILED'));
  const warnings = zeros<NoteWarningCode>(NOTE_WARNING_CODES);
  const owners = zeros(OWNER_KINDS);
  const byOutcome = zeros(ATTACHMENT_OUTCOMES);
  const byDeclaredKind = zeros(ATTACHMENT_KINDS);
  let outOfScope = 0;
  let migrated = 0;
  let failed = 0;
  let withWarnings = 0;
  let noPersonId = 0;
  let personNotInCdp = 0;
  let emptyBodyWithAttachments = 0;
  let attachmentsTotal = 0;
  let okBytes = 0;
  // One bit per person id (the known pool, then the ghosts): distinct persons in O(persons / 8) bytes.
  const personBits = new Uint8Array(Math.ceil((tenant.personPoolSize + tenant.ghostPersonPoolSize) / 8));
  let personsSeen = 0;
  let personsFound = 0;
  const seePerson = (personId: number | null) => {
    if (personId === null) return;
    const k = personId - tenant.personIdBase;
    const bit = 1 << (k % 8);
    if (((personBits[k >> 3] ?? 0) & bit) !== 0) return;
    personBits[k >> 3] = (personBits[k >> 3] ?? 0) | bit;
    personsSeen++;
    if (k < tenant.personPoolSize) personsFound++;
  };

  let lastNoteId: number | null = null;
  for (let position = 0; position < notes.count; position++) {
    const t = notes.traitsAt(position);
    lastNoteId = Math.max(lastNoteId ?? t.id, t.id);
    const outcome = expectedNoteOutcome(t);
    if (outcome.status === 'out_of_scope') {
      outOfScope++;
      continue;
    }
    if (t.category !== 'malformed') seePerson(t.personId);
    if (outcome.failure) {
      failed++;
      failures[outcome.failure as PlannedFailureCode]++;
      if (t.category === 'no_person') noPersonId++;
      if (t.category === 'person_not_in_cdp') personNotInCdp++;
      continue;
    }
    migrated++;
    owners[t.owner]++;
    if (t.scriptOnlyBody) emptyBodyWithAttachments++;
    if (outcome.warnings.length > 0) withWarnings++;
    for (const code of outcome.warnings) warnings[code]++;
    for (const a of t.attachments) {
      attachmentsTotal++;
      byOutcome[a.outcome]++;
      byDeclaredKind[a.declaredKind]++;
      if (a.outcome === 'ok') okBytes += a.sizeBytes;
    }
  }

  const inScope = notes.count - outOfScope;
  return {
    cid: tenant.cid,
    companySsoId: tenant.companySsoId,
    seed: tenant.seed,
    preset: tenant.preset,
    mix: { ...tenant.mix },
    firstNoteId: tenant.firstNoteId,
    lastNoteId,
    notesTotal: notes.count,
    inScope,
    outOfScope,
    expectedMigrated: migrated,
    expectedFailed: failed,
    expectedFailureRate: inScope > 0 ? failed / inScope : 0,
    expectedMatchPct: inScope > 0 ? migrated / inScope : null,
    notesWithWarnings: withWarnings,
    failures,
    warnings,
    contactNotMapped: { noPersonId, personNotInCdp },
    persons: { seen: personsSeen, found: personsFound },
    owners,
    emptyBodyWithAttachments,
    attachments: { total: attachmentsTotal, byOutcome, byDeclaredKind, okBytes },
    cdp: {
      contacts: tenant.personPoolSize,
      users: tenant.userPoolSize + tenant.emailOnlyUserPoolSize,
    },
  };
}
