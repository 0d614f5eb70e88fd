/**
 * The read side of a CRM page, shared by every kind that turns CRM notes into CDP notes
 * (DESIGN.md §1 step 3): classify → notes already in CDP (page mode `skip_existing`) → contacts and
 * owners while the HTML is normalized → build candidates → re-host attachments → keep what has
 * something to show. Writes nothing to `contact_notes` or the failure log: problems are data.
 */
import pLimit from 'p-limit';

import type { CrmNote, CrmNoteResult } from '../crm/crm-note.js';
import type { ContactNotesRepository } from '../db/contact-notes-repository.js';
import type { NoteAttachmentDoc } from '../db/documents.js';
import type { PageMode, ReasonCode } from '../domain.js';
import type { ContactResolver } from '../resolve/contact-resolver.js';
import type { OwnerResolution, OwnerResolver } from '../resolve/owner-resolver.js';
import type {
  AttachmentInput,
  AttachmentRehoster,
  NormalizeHtml,
  NormalizeHtmlResult,
} from './pipeline-ports.js';

/** One note problem; its reason code's severity says whether the note failed or kept a warning. */
export interface Problem {
  noteId: string;
  reasonCode: ReasonCode;
  details: Record<string, unknown>;
}

/** A note on its way to CDP: everything a write needs. */
export interface Candidate {
  crm: CrmNote;
  contactId: string;
  owner: OwnerResolution;
  html: string;
  hasVisibleText: boolean;
  attachments: NoteAttachmentDoc[];
}

export interface PrepareNotesDeps {
  contacts: ContactResolver;
  owners: OwnerResolver;
  normalizeHtml: NormalizeHtml;
  attachments: AttachmentRehoster;
  contactNotes: Pick<ContactNotesRepository, 'findExistingIds'>;
  /** How many notes of a page may re-host attachments at once. */
  attachmentNoteConcurrency: number;
}

export interface PrepareNotesInput {
  companySsoId: string;
  page: number;
  mode: PageMode;
  noteTypeAllowlist: ReadonlySet<number>;
  signal?: AbortSignal | undefined;
}

export interface PreparedNotes {
  seen: number;
  outOfScope: number;
  /** Ids of every valid in-scope note of the page (each must end in exactly one bucket). */
  inScopeIds: string[];
  /** Already in CDP (page mode `skip_existing`): not worked on, counted as skipped. */
  skippedIds: ReadonlySet<string>;
  /** Notes ready to write, with their attachments re-hosted. */
  candidates: Candidate[];
  problems: Problem[];
  /** Distinct CRM persons of the notes looked up, and those CDP has a contact for. */
  persons: { seen: string[]; found: string[] };
  attachments: AttachmentStats;
  timings: { existing_ms: number; resolve_ms: number; normalize_ms: number; attachments_ms: number };
}

/** What the re-hoster was given and what the SSRF guard refused, by host (what `diagnose` reads). */
export interface AttachmentStats {
  declared: number;
  blocked: number;
  blockedHosts: Map<string, number>;
}

export async function prepareNotes(
  deps: PrepareNotesDeps,
  input: PrepareNotesInput,
  results: readonly CrmNoteResult[],
): Promise<PreparedNotes> {
  const clock = startLaps();
  const classified = classifyPage(results, input.page, input.noteTypeAllowlist);
  const skippedIds =
    input.mode === 'skip_existing' && classified.inScope.length > 0
      ? await deps.contactNotes.findExistingIds(
          input.companySsoId,
          classified.inScope.map((n) => n.id),
        )
      : new Set<string>();
  const existing_ms = clock.lap();
  const toMigrate = classified.inScope.filter((n) => !skippedIds.has(n.id));

  // Contacts and owners are looked up while the HTML is normalized: the queries run in the
  // database while this process sanitizes, so two cores work instead of one.
  const lookups = Promise.all([
    deps.contacts.resolve(input.companySsoId, toMigrate),
    deps.owners.resolve(input.companySsoId, toMigrate),
  ]);
  const normalized = new Map(toMigrate.map((note) => [note.id, deps.normalizeHtml(note.note)]));
  const normalize_ms = clock.lap();
  const [contactOf, ownerOf] = await lookups;
  const resolve_ms = clock.lap();

  const built = buildCandidates(toMigrate, { contactOf, ownerOf, normalized });
  const rehosted = await rehostAttachments(deps, input, built.candidates);
  const attachments_ms = clock.lap();
  const kept = keepPresentable(rehosted.candidates);
  return {
    seen: results.length,
    outOfScope: classified.outOfScope,
    inScopeIds: classified.inScope.map((n) => n.id),
    skippedIds,
    candidates: kept.candidates,
    problems: [...classified.problems, ...built.problems, ...rehosted.problems, ...kept.problems],
    persons: personsOf(toMigrate, contactOf),
    attachments: rehosted.stats,
    timings: { existing_ms, resolve_ms, normalize_ms, attachments_ms },
  };
}

function personsOf(notes: readonly CrmNote[], contactOf: NoteLookups['contactOf']): PreparedNotes['persons'] {
  const seen = new Set<string>();
  const found = new Set<string>();
  for (const note of notes) {
    if (note.crmPersonId === null) continue;
    seen.add(note.crmPersonId);
    if (contactOf.get(note.id)?.ok) found.add(note.crmPersonId);
  }
  return { seen: [...seen], found: [...found] };
}

export interface ClassifiedPage {
  inScope: CrmNote[];
  outOfScope: number;
  problems: Problem[];
}

/**
 * Validation and the note-type filter. An invalid note whose id CRM did not give in readable form
 * is recorded under the synthetic id `invalid:page-{page}:index-{index}` (its place in the page),
 * so each such note keeps its own failure record; a repeated id is a payload problem of the copy.
 */
export function classifyPage(
  results: readonly CrmNoteResult[],
  page: number,
  allowlist: ReadonlySet<number>,
): ClassifiedPage {
  const seenIds = new Set<string>();
  const out: ClassifiedPage = { inScope: [], outOfScope: 0, problems: [] };
  results.forEach((result, index) => {
    if (!result.ok) {
      out.problems.push({
        noteId: result.legacyCrmNoteId ?? `invalid:page-${page}:index-${index}`,
        reasonCode: 'CRM_PAYLOAD_INVALID',
        details: { ...result.details, crm_id_readable: result.legacyCrmNoteId !== null },
      });
      return;
    }
    const note = result.note;
    if (seenIds.has(note.id)) {
      out.problems.push({
        noteId: `${note.id}:duplicate:page-${page}:index-${index}`,
        reasonCode: 'CRM_PAYLOAD_INVALID',
        details: { reason: 'the same note id appears twice in one CRM page', crm_id: note.id },
      });
      return;
    }
    seenIds.add(note.id);
    if (allowlist.has(note.crmNoteTypeId)) out.inScope.push(note);
    else out.outOfScope++;
  });
  return out;
}

export interface NoteLookups {
  contactOf: Awaited<ReturnType<ContactResolver['resolve']>>;
  ownerOf: Awaited<ReturnType<OwnerResolver['resolve']>>;
  normalized: ReadonlyMap<string, NormalizeHtmlResult>;
}

/** No contact fails the note; then HTML too long fails it before any attachment is fetched. */
export function buildCandidates(
  notes: readonly CrmNote[],
  lookups: NoteLookups,
): { candidates: Candidate[]; problems: Problem[] } {
  const candidates: Candidate[] = [];
  const problems: Problem[] = [];
  for (const crm of notes) {
    const contact = lookups.contactOf.get(crm.id);
    if (!contact?.ok) {
      problems.push({
        noteId: crm.id,
        reasonCode: 'CONTACT_NOT_MAPPED',
        details: contact && !contact.ok ? contact.details : { reason: 'not resolved' },
      });
      continue;
    }
    const html = lookups.normalized.get(crm.id);
    if (!html?.ok) {
      problems.push({
        noteId: crm.id,
        reasonCode: html?.reasonCode ?? 'NOTE_TOO_LONG',
        details: html && !html.ok ? html.details : {},
      });
      continue;
    }
    const owner = lookups.ownerOf.get(crm.id);
    if (!owner) throw new Error(`page pipeline: note ${crm.id} has no owner resolution`);
    candidates.push({
      crm,
      contactId: contact.value,
      owner,
      html: html.html,
      hasVisibleText: html.hasVisibleText,
      attachments: [],
    });
  }
  return { candidates, problems };
}

/** Attachments of each candidate through the re-hoster; a failed attachment never fails its note. */
export async function rehostAttachments(
  deps: Pick<PrepareNotesDeps, 'attachments' | 'attachmentNoteConcurrency'>,
  input: Pick<PrepareNotesInput, 'companySsoId' | 'signal'>,
  candidates: readonly Candidate[],
): Promise<{ candidates: Candidate[]; problems: Problem[]; stats: AttachmentStats }> {
  const limit = pLimit(Math.max(1, deps.attachmentNoteConcurrency));
  const problems: Problem[] = [];
  const stats: AttachmentStats = { declared: 0, blocked: 0, blockedHosts: new Map() };
  const rehosted = await Promise.all(
    candidates.map((c) =>
      limit(async (): Promise<Candidate> => {
        const inputs = attachmentInputs(c.crm);
        if (inputs.length === 0) return c;
        stats.declared += inputs.length;
        const result = await deps.attachments.process(input.companySsoId, c.crm.id, inputs, input.signal);
        for (const p of result.problems) {
          if (p.reasonCode !== 'ATTACHMENT_SSRF_BLOCKED') continue;
          stats.blocked++;
          const host = hostOf(p.url);
          stats.blockedHosts.set(host, (stats.blockedHosts.get(host) ?? 0) + 1);
        }
        for (const [code, group] of groupBy(result.problems, (p) => p.reasonCode)) {
          problems.push({
            noteId: c.crm.id,
            reasonCode: code,
            details: {
              attachments: group.map((p) => ({ url: p.url, file_name: p.fileName, message: p.message })),
            },
          });
        }
        return { ...c, attachments: result.attachments };
      }),
    ),
  );
  return { candidates: rehosted, problems, stats };
}

/** The host of a (redacted) attachment URL, for the blocked-hosts count; CRM may send anything. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname || '(no host)';
  } catch {
    return '(not a URL)';
  }
}

/**
 * A note with no text and no attachment left fails `NOTE_EMPTY_AFTER_SANITIZE`; the rest are kept,
 * with a warning for an unmapped owner and for a check-in CDP cannot store.
 */
export function keepPresentable(candidates: readonly Candidate[]): {
  candidates: Candidate[];
  problems: Problem[];
} {
  const kept: Candidate[] = [];
  const problems: Problem[] = [];
  for (const c of candidates) {
    if (!c.hasVisibleText && c.attachments.length === 0) {
      problems.push({
        noteId: c.crm.id,
        reasonCode: 'NOTE_EMPTY_AFTER_SANITIZE',
        details: { original_length: c.crm.note.length, attachments_declared: attachmentInputs(c.crm).length },
      });
      continue;
    }
    kept.push(c);
  }
  for (const c of kept) {
    if (!c.owner.mapped)
      problems.push({ noteId: c.crm.id, reasonCode: 'OWNER_NOT_MAPPED', details: c.owner.details });
    if (c.crm.checkin !== null && c.crm.checkin !== undefined) {
      problems.push({
        noteId: c.crm.id,
        reasonCode: 'CRM_CHECKIN_DROPPED',
        details: { reason: 'CDP notes have no location field' },
      });
    }
  }
  return { candidates: kept, problems };
}

export function attachmentInputs(note: CrmNote): AttachmentInput[] {
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

/** Milliseconds since the previous lap. */
function startLaps(): { lap(): number } {
  let mark = performance.now();
  return {
    lap() {
      const now = performance.now();
      const ms = Math.round(now - mark);
      mark = now;
      return ms;
    },
  };
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
