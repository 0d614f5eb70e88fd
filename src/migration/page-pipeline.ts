/**
 * One CRM page through the pipeline (DESIGN.md §1 step 3): validation → note-type filter →
 * notes already in CDP (on a re-run) → contacts and owners (one query each) → HTML → attachments → idempotent write → failure log.
 * Every note of the page ends in exactly one bucket (migrated, skipped, failed, out of scope);
 * warnings ride along. Problems are data: only run-level trouble (database down) throws.
 */
import pLimit from 'p-limit';

import type { CrmNote, CrmNoteResult } from '../crm/crm-note.js';
import type { ContactNotesRepository, NewMigratedNote } from '../db/contact-notes-repository.js';
import type { NoteAttachmentDoc } from '../db/documents.js';
import type { FailuresRepository, NewFailure } from '../db/failures-repository.js';
import type { ReasonCode } from '../domain.js';
import type { Logger } from '../logger.js';
import type { ContactResolver } from '../resolve/contact-resolver.js';
import type { OwnerResolution, OwnerResolver } from '../resolve/owner-resolver.js';
import type { AttachmentInput, AttachmentRehoster, NormalizeHtml } from './pipeline-ports.js';
import type { PageTally } from './run-counters.js';

export interface PageContext {
  cid: string;
  companySsoId: string;
  runId: string;
  page: number;
  noteTypeAllowlist: ReadonlySet<number>;
  /** Matched notes created on or after this instant were written by this run (a replayed page). */
  countOwnInsertsSince: Date | null;
  /**
   * The company already held migrated notes when the run was claimed (a re-run, a resumed run):
   * look the page's notes up first and skip those already in CDP before any contact lookup,
   * sanitizing or attachment download. Ignored on a replayed page, which takes the full path so
   * a note this run wrote just before a crash still gets its warnings recorded.
   */
  skipExisting: boolean;
  signal?: AbortSignal | undefined;
}

export interface PageDeps {
  contacts: ContactResolver;
  owners: OwnerResolver;
  normalizeHtml: NormalizeHtml;
  attachments: AttachmentRehoster;
  contactNotes: Pick<ContactNotesRepository, 'createNotesBatch' | 'countInsertedSince' | 'findExistingIds'>;
  failures: Pick<FailuresRepository, 'recordMany'>;
  logger: Logger;
  now: () => Date;
  /** How many notes of a page may re-host attachments at once. */
  attachmentNoteConcurrency: number;
}

/** Where a page's time went, in milliseconds (logged with every page). */
export interface PageStepTimings {
  existing_ms: number;
  resolve_ms: number;
  normalize_ms: number;
  attachments_ms: number;
  write_ms: number;
  failure_log_ms: number;
}

export interface PageOutcome extends PageTally {
  problemsByReason: Partial<Record<ReasonCode, number>>;
  timings: PageStepTimings;
  /** Ids of notes that ended in no bucket: always empty unless the pipeline has a bug. */
  unaccountedIds: string[];
}

interface Problem {
  noteId: string;
  reasonCode: ReasonCode;
  details: Record<string, unknown>;
}

/** A note still on its way to the database. */
interface Candidate {
  crm: CrmNote;
  contactId: string;
  owner: OwnerResolution;
  html: string;
  hasVisibleText: boolean;
  attachments?: NoteAttachmentDoc[];
}

export async function processPage(
  deps: PageDeps,
  ctx: PageContext,
  results: readonly CrmNoteResult[],
): Promise<PageOutcome> {
  const failures: Problem[] = [];
  const warnings: Problem[] = [];
  const fail = (noteId: string, reasonCode: ReasonCode, details: Record<string, unknown>) =>
    failures.push({ noteId, reasonCode, details });
  const warn = (noteId: string, reasonCode: ReasonCode, details: Record<string, unknown>) =>
    warnings.push({ noteId, reasonCode, details });

  // 1. Validation and note-type filter.
  const seenIds = new Set<string>();
  const inScope: CrmNote[] = [];
  let outOfScope = 0;
  results.forEach((result, index) => {
    if (!result.ok) {
      const id = result.legacyCrmNoteId ?? `invalid:page-${ctx.page}:index-${index}`;
      fail(id, 'CRM_PAYLOAD_INVALID', {
        ...result.details,
        crm_id_readable: result.legacyCrmNoteId !== null,
      });
      return;
    }
    const note = result.note;
    if (seenIds.has(note.id)) {
      fail(`${note.id}:duplicate:page-${ctx.page}:index-${index}`, 'CRM_PAYLOAD_INVALID', {
        reason: 'the same note id appears twice in one CRM page',
        crm_id: note.id,
      });
      return;
    }
    seenIds.add(note.id);
    if (!ctx.noteTypeAllowlist.has(note.crmNoteTypeId)) {
      outOfScope++;
      return;
    }
    inScope.push(note);
  });

  const timings: PageStepTimings = {
    existing_ms: 0,
    resolve_ms: 0,
    normalize_ms: 0,
    attachments_ms: 0,
    write_ms: 0,
    failure_log_ms: 0,
  };
  let mark = performance.now();
  const lap = (step: keyof PageStepTimings) => {
    const now = performance.now();
    timings[step] += Math.round(now - mark);
    mark = now;
  };

  // 2. Notes already in CDP are skipped here: the upsert would leave them untouched anyway, and a
  // re-run should not pay for lookups, sanitizing and attachment re-hosting it will throw away.
  const skippedIds = new Set<string>();
  let toMigrate = inScope;
  if (ctx.skipExisting && !ctx.countOwnInsertsSince && inScope.length > 0) {
    const existing = await deps.contactNotes.findExistingIds(
      ctx.companySsoId,
      inScope.map((n) => n.id),
    );
    for (const id of existing) skippedIds.add(id);
    toMigrate = inScope.filter((n) => !skippedIds.has(n.id));
  }
  lap('existing_ms');

  // 3. Contacts and owners are looked up while the HTML is normalized: the queries run in the
  // database while this process sanitizes, so two cores work instead of one.
  const lookups = Promise.all([
    deps.contacts.resolve(ctx.companySsoId, toMigrate),
    deps.owners.resolve(ctx.companySsoId, toMigrate),
  ]);
  const normalized = new Map(toMigrate.map((note) => [note.id, deps.normalizeHtml(note.note)]));
  lap('normalize_ms');
  const [contactOf, ownerOf] = await lookups;
  lap('resolve_ms');

  // 4. No contact fails the note; then HTML too long fails it before any attachment is fetched.
  let candidates: Candidate[] = [];
  for (const crm of toMigrate) {
    const contact = contactOf.get(crm.id);
    if (!contact?.ok) {
      fail(
        crm.id,
        'CONTACT_NOT_MAPPED',
        contact && !contact.ok ? contact.details : { reason: 'not resolved' },
      );
      continue;
    }
    const html = normalized.get(crm.id);
    if (!html?.ok) {
      fail(crm.id, html?.reasonCode ?? 'NOTE_TOO_LONG', html && !html.ok ? html.details : {});
      continue;
    }
    const owner = ownerOf.get(crm.id);
    if (!owner) throw new Error(`page pipeline: note ${crm.id} has no owner resolution`);
    candidates.push({
      crm,
      contactId: contact.value,
      owner,
      html: html.html,
      hasVisibleText: html.hasVisibleText,
    });
  }

  // 5. Attachments: a failed attachment never fails its note.
  const limit = pLimit(Math.max(1, deps.attachmentNoteConcurrency));
  await Promise.all(
    candidates.map((c) =>
      limit(async () => {
        const inputs = attachmentInputs(c.crm);
        if (inputs.length === 0) {
          c.attachments = [];
          return;
        }
        const { attachments, problems } = await deps.attachments.process(
          ctx.companySsoId,
          c.crm.id,
          inputs,
          ctx.signal,
        );
        c.attachments = attachments;
        for (const [code, group] of groupBy(problems, (p) => p.reasonCode)) {
          warn(c.crm.id, code, {
            attachments: group.map((p) => ({ url: p.url, file_name: p.fileName, message: p.message })),
          });
        }
      }),
    ),
  );

  lap('attachments_ms');

  // 6. Nothing left to show: no text and no attachment.
  candidates = candidates.filter((c) => {
    if (c.hasVisibleText || (c.attachments?.length ?? 0) > 0) return true;
    fail(c.crm.id, 'NOTE_EMPTY_AFTER_SANITIZE', {
      original_length: c.crm.note.length,
      attachments_declared: attachmentInputs(c.crm).length,
    });
    return false;
  });
  for (const c of candidates) {
    if (!c.owner.mapped) warn(c.crm.id, 'OWNER_NOT_MAPPED', c.owner.details);
    if (c.crm.checkin !== null && c.crm.checkin !== undefined) {
      warn(c.crm.id, 'CRM_CHECKIN_DROPPED', { reason: 'CDP notes have no location field' });
    }
  }

  // 7. The idempotent write.
  const batch = await deps.contactNotes.createNotesBatch(
    candidates.map((c) => toNewNote(ctx.companySsoId, c)),
  );
  for (const f of batch.failed) fail(f.legacy_crm_note_id, f.reasonCode, f.details);
  let { migrated, skipped } = batch;
  skipped += skippedIds.size;
  if (ctx.countOwnInsertsSince && skipped > 0) {
    // A replayed page: notes this run wrote before a crash count as migrated, not skipped.
    const own = await deps.contactNotes.countInsertedSince(
      ctx.companySsoId,
      batch.writtenIds,
      ctx.countOwnInsertsSince,
    );
    const moved = Math.min(own, skipped);
    migrated += moved;
    skipped -= moved;
  }

  lap('write_ms');

  // 8. The failure log: one record and one log line per (note, reason).
  await recordProblems(deps, ctx, [...failures, ...warnings]);
  lap('failure_log_ms');

  const written = new Set([...batch.writtenIds, ...skippedIds]);
  const failedIds = new Set(failures.map((f) => f.noteId));
  const withWarnings = new Set(warnings.map((w) => w.noteId).filter((id) => written.has(id))).size;
  const unaccountedIds = inScope.map((n) => n.id).filter((id) => !written.has(id) && !failedIds.has(id));
  return {
    seen: results.length,
    migrated,
    skipped,
    failed: failedIds.size,
    outOfScope,
    withWarnings,
    problemsByReason: countBy([...failures, ...warnings], (p) => p.reasonCode),
    unaccountedIds,
    timings,
  };
}

function attachmentInputs(note: CrmNote): AttachmentInput[] {
  const toInput = (kind: AttachmentInput['kind']) => (a: CrmNote['images'][number]) => ({
    kind,
    url: a.url,
    fileName: a.fileName,
    contentType: a.contentType,
    size: a.size,
  });
  return [
    ...note.images.map(toInput('image')),
    ...note.audios.map(toInput('audio')),
    ...note.attachments.map(toInput('document')),
  ];
}

function toNewNote(companySsoId: string, c: Candidate): NewMigratedNote {
  return {
    company_sso_id: companySsoId,
    contact_id: c.contactId,
    owner_id: c.owner.mapped ? c.owner.ownerId : null,
    note: c.html,
    attachments: c.attachments ?? [],
    created_at: c.crm.createdAt,
    updated_at: c.crm.updatedAt,
    legacy_crm_note_id: c.crm.id,
    ...(c.owner.mapped ? {} : { legacy_owner_label: c.owner.legacyOwnerLabel }),
  };
}

async function recordProblems(deps: PageDeps, ctx: PageContext, problems: Problem[]): Promise<void> {
  if (problems.length === 0) return;
  const log = deps.logger.child({ cid: ctx.cid, run_id: ctx.runId, page: ctx.page });
  for (const p of problems) {
    log.warn(
      { legacy_crm_note_id: p.noteId, reason_code: p.reasonCode, details: p.details },
      'crm_note_problem',
    );
  }
  const records: NewFailure[] = problems.map((p) => ({
    cid: ctx.cid,
    companySsoId: ctx.companySsoId,
    runId: ctx.runId,
    legacyCrmNoteId: p.noteId,
    reasonCode: p.reasonCode,
    details: p.details,
  }));
  await deps.failures.recordMany(records, deps.now());
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function countBy<T, K extends string>(items: readonly T[], key: (t: T) => K): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const item of items) {
    const k = key(item);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
