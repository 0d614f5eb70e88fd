/**
 * The read side reconcile and repair share (DESIGN.md §11.5): a CRM page through `prepareNotes`
 * in full mode (no existence skip) with attachments downloaded and checked but not uploaded (the
 * `check` stage returns the documents a migration stores), turned into what a migration would
 * write now, and compared with CDP in one `$in` per page; and the orphan check of a batch of CDP
 * legacy ids against the ids the run has seen. Writes nothing.
 */
import type { CrmNoteResult } from '../crm/crm-note.js';
import type { StoredNoteDoc } from '../db/contact-notes-provenance.js';
import type { NewMigratedNote } from '../db/contact-notes-repository.js';
import type { RunDoc } from '../db/documents.js';
import { type ReconcileVerdict, severityOf } from '../domain.js';
import { migratedNoteOf } from './migrated-note.js';
import { type Candidate, type PreparedNotes, prepareNotes, type Problem } from './prepare-notes.js';
import { findingOf, verdictOf, type WouldWrite } from './reconcile-verdict.js';
import type { RunKindDeps } from './run-step.js';

export interface ComparedNote {
  /** The CRM id (a synthetic `invalid:…` id for a note CRM sent unreadable). */
  noteId: string;
  verdict: Exclude<ReconcileVerdict, 'orphan'>;
  stored: StoredNoteDoc | null;
  now: WouldWrite;
  /** The prepared note and what a migration would write, when it would write. */
  candidate: Candidate | null;
  next: NewMigratedNote | null;
}

export interface ComparedPage {
  page: number;
  seen: number;
  outOfScope: number;
  /** Every readable CRM id of the page, in scope or not: the ids the orphan pass must not report. */
  crmIds: string[];
  notes: ComparedNote[];
  /** Every problem of `prepareNotes` (failures and warnings), for a kind that records them. */
  prepared: PreparedNotes;
  timings: Record<string, number>;
}

export async function compareCrmPage(
  deps: Pick<
    RunKindDeps,
    'contacts' | 'owners' | 'normalizeHtml' | 'vetAttachments' | 'contactNotes' | 'attachmentNoteConcurrency'
  >,
  input: { run: RunDoc; page: number; noteTypeAllowlist: ReadonlySet<number>; signal: AbortSignal },
  results: readonly CrmNoteResult[],
): Promise<ComparedPage> {
  const { run } = input;
  const prepared = await prepareNotes(
    { ...deps, attachments: deps.vetAttachments.downloads },
    // `fresh`: no existence check — every note is worked out in full, present or not.
    {
      companySsoId: run.company_sso_id,
      page: input.page,
      mode: 'fresh',
      noteTypeAllowlist: input.noteTypeAllowlist,
      signal: input.signal,
    },
    results,
  );
  const started = performance.now();
  const failureOf = new Map<string, Problem>();
  for (const p of prepared.problems)
    if (severityOf(p.reasonCode) === 'failure' && !failureOf.has(p.noteId)) failureOf.set(p.noteId, p);
  const crmIds = readableIds(results);
  // One query for the page: every readable id, so a note that fails now still shows whether CDP has it.
  const stored = await deps.contactNotes.findStoredNotes(run.company_sso_id, crmIds);
  const candidateOf = new Map(prepared.candidates.map((c) => [c.crm.id, c]));

  const notes: ComparedNote[] = [];
  const judge = (noteId: string) => {
    const failure = failureOf.get(noteId);
    const candidate = failure ? null : (candidateOf.get(noteId) ?? null);
    const next = candidate ? migratedNoteOf(run.company_sso_id, run._id, candidate) : null;
    const now: WouldWrite | null = next
      ? { fingerprint: next.legacy_fingerprint }
      : failure
        ? { failure }
        : null;
    if (!now) return;
    const storedNote = stored.get(noteId) ?? null;
    notes.push({ noteId, verdict: verdictOf(storedNote, now), stored: storedNote, now, candidate, next });
  };
  const inScope = new Set(prepared.inScopeIds);
  for (const id of inScope) judge(id);
  // Notes CRM sent broken are in no in-scope list: each still fails, under its own (maybe synthetic) id.
  for (const id of failureOf.keys()) if (!inScope.has(id)) judge(id);
  return {
    page: input.page,
    seen: prepared.seen,
    outOfScope: prepared.outOfScope,
    crmIds,
    notes,
    prepared,
    timings: { ...prepared.timings, compare_ms: Math.round(performance.now() - started) },
  };
}

function readableIds(results: readonly CrmNoteResult[]): string[] {
  const ids = new Set<string>();
  for (const r of results) {
    const id = r.ok ? r.note.id : r.legacyCrmNoteId;
    if (id !== null) ids.add(id);
  }
  return [...ids];
}

/** The findings of a compared page (every verdict but `ok`). */
export function findingsOf(notes: readonly ComparedNote[]): Problem[] {
  return notes
    .map((n) => findingOf(n.noteId, n.verdict, n.stored, n.now))
    .filter((p): p is Problem => p !== null);
}

/**
 * Of a batch of the company's CDP legacy ids (the orphan pass, after every CRM page is
 * committed), those the run never saw in CRM: two queries per batch, memory of one batch.
 */
export async function findOrphans(
  deps: Pick<RunKindDeps, 'scratch' | 'contactNotes'>,
  run: RunDoc,
  legacyIds: readonly string[],
): Promise<Problem[]> {
  const seen = await deps.scratch.findSeen(run._id, legacyIds);
  const orphanIds = legacyIds.filter((id) => !seen.has(id));
  if (orphanIds.length === 0) return [];
  const stored = await deps.contactNotes.findStoredNotes(run.company_sso_id, orphanIds);
  return orphanIds
    .map((id) => findingOf(id, 'orphan', stored.get(id) ?? null, null))
    .filter((p): p is Problem => p !== null);
}
