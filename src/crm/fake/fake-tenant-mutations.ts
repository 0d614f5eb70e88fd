/**
 * Changes to a fake tenant after it was served (#14), so reconcile and repair can be shown: edit
 * note k (new text, later `updated_at`), delete note k, add n notes after the last one, change
 * note k's person (to one CDP has a contact for). Deterministic — the same mutations give the same
 * bytes — and O(mutations) in memory: the tenant is still generated note by note. Note k is the
 * 0-based index of the unmutated tenant (note id = firstNoteId + k); added notes continue the
 * indices. Also what reconcile must find and repair must do, against a CDP that holds the
 * unmutated tenant's migration, untouched (`mutationPlanOf`).
 */
import { ValidationError } from '../../errors.js';
import type { FakeNoteGenerator } from './fake-note-generator.js';
import { crmTimestamp } from './fake-note-generator.js';
import {
  expectedNoteOutcome,
  type FakeNoteTraits,
  fakeNoteTraits,
  type Malformation,
} from './fake-note-traits.js';
import type { FakeTenant } from './fake-tenant-options.js';

export const FAKE_MUTATION_OPS = ['edit', 'delete', 'add', 'contact'] as const;
export type FakeMutationOp = (typeof FAKE_MUTATION_OPS)[number];

/** One request: indices to edit, delete or re-person, and how many notes to add. */
export interface FakeMutationRequest {
  edit?: number[];
  delete?: number[];
  add?: number;
  contact?: number[];
}

/** Every mutation applied to one tenant so far. */
export interface FakeTenantMutations {
  /** Index → how many times CRM edited the note. */
  readonly edited: ReadonlyMap<number, number>;
  readonly deleted: ReadonlySet<number>;
  /** Notes added after the unmutated tenant's last one. */
  readonly added: number;
  /** Index → how many times the note's person changed. */
  readonly contactChanged: ReadonlyMap<number, number>;
}

export const NO_MUTATIONS: FakeTenantMutations = {
  edited: new Map(),
  deleted: new Set(),
  added: 0,
  contactChanged: new Map(),
};

/** More than this many added notes in one tenant is a benchmark, not a mutation. */
const MAX_ADDED = 1_000_000;
const DAY_MS = 86_400_000;

/** Adds a request to what was applied; throws `ValidationError` listing every bad part. */
export function applyMutations(
  tenant: FakeTenant,
  current: FakeTenantMutations,
  request: FakeMutationRequest,
): FakeTenantMutations {
  const add = request.add ?? 0;
  const addIsValid = Number.isSafeInteger(add) && add >= 0 && current.added + add <= MAX_ADDED;
  const size = tenant.noteCount + current.added + (addIsValid ? add : 0);
  const problems: string[] = [];
  const indices = (op: FakeMutationOp, list: number[] | undefined) => {
    for (const k of list ?? []) {
      if (!Number.isSafeInteger(k) || k < 0 || k >= size) {
        problems.push(`${op}: note index must be an integer from 0 to ${size - 1}, got ${JSON.stringify(k)}`);
      } else if (current.deleted.has(k) || (op !== 'delete' && request.delete?.includes(k))) {
        problems.push(`${op}: note ${k} is deleted`);
      }
    }
    return list ?? [];
  };
  if (!addIsValid) {
    problems.push(
      `add must be an integer from 0 to ${MAX_ADDED - current.added}, got ${JSON.stringify(add)}`,
    );
  }
  const edit = indices('edit', request.edit);
  const del = indices('delete', request.delete);
  const contact = indices('contact', request.contact);
  if (problems.length > 0) {
    throw new ValidationError(`Invalid fake CRM mutation of tenant ${tenant.cid}: ${problems.join('; ')}`, {
      problems,
    });
  }
  const bump = (m: ReadonlyMap<number, number>, ks: number[]) => {
    const next = new Map(m);
    for (const k of ks) next.set(k, (next.get(k) ?? 0) + 1);
    return next;
  };
  return {
    edited: bump(current.edited, edit),
    deleted: new Set([...current.deleted, ...del]),
    added: current.added + add,
    contactChanged: bump(current.contactChanged, contact),
  };
}

/** `edit:3`, `delete:9`, `add:2`, `contact:12` (the `--mutate cid:op:n` spec without the cid). */
export function parseMutationSpec(spec: string): FakeMutationRequest {
  const m = /^(edit|delete|add|contact):(\d{1,9})$/.exec(spec);
  if (!m?.[1] || !m[2]) {
    throw new ValidationError(
      `a mutation must be edit:K, delete:K, contact:K (K = 0-based note index) or add:N, got ${JSON.stringify(spec)}`,
    );
  }
  const n = Number(m[2]);
  return m[1] === 'add' ? { add: n } : { [m[1]]: [n] };
}

/** The body of `POST /_fake/tenants/{cid}/mutations`, checked field by field. */
export function parseMutationRequest(body: unknown): FakeMutationRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError(
      'the mutation body must be a JSON object like {"edit":[3],"delete":[9],"add":2,"contact":[12]}',
    );
  }
  const problems: string[] = [];
  const out: FakeMutationRequest = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'add') {
      if (typeof value === 'number') out.add = value;
      else problems.push(`add must be a number, got ${JSON.stringify(value)}`);
    } else if (key === 'edit' || key === 'delete' || key === 'contact') {
      if (Array.isArray(value) && value.every((v) => typeof v === 'number')) out[key] = value;
      else problems.push(`${key} must be an array of note indices, got ${JSON.stringify(value)}`);
    } else problems.push(`unknown field ${JSON.stringify(key)} (allowed: ${FAKE_MUTATION_OPS.join(', ')})`);
  }
  if (problems.length > 0)
    throw new ValidationError(`Invalid fake CRM mutation: ${problems.join('; ')}`, { problems });
  return out;
}

/** The notes CRM lists after the mutations: position → note index, and the notes themselves. */
export interface FakeNoteListing {
  readonly total: number;
  /** The note index at 0-based list position `position` (`position < total`). */
  indexAt(position: number): number;
  note(index: number, forceMalformation?: Malformation): Record<string, unknown>;
  /** Notes with an index below this exist (files of added notes are served too). */
  readonly indexLimit: number;
}

/** Which note index each list position holds once notes were deleted and added. */
export function mutatedPositions(
  tenant: FakeTenant,
  mutations: FakeTenantMutations,
): Pick<FakeNoteListing, 'total' | 'indexLimit' | 'indexAt'> {
  const deleted = [...mutations.deleted].sort((a, b) => a - b);
  const indexLimit = tenant.noteCount + mutations.added;
  return {
    total: indexLimit - deleted.length,
    indexLimit,
    indexAt(position) {
      let index = position;
      // Deleted indices at or before the candidate push it forward, in ascending order.
      for (const d of deleted) {
        if (d <= index) index++;
        else break;
      }
      return index;
    },
  };
}

export function mutatedListing(
  generator: FakeNoteGenerator,
  mutations: FakeTenantMutations,
): FakeNoteListing {
  const { tenant } = generator;
  return {
    ...mutatedPositions(tenant, mutations),
    note(index, forceMalformation) {
      const raw = generator.note(index, forceMalformation);
      const traits = generator.traits(index);
      const edits = mutations.edited.get(index) ?? 0;
      const moves = traits.malformation === null ? (mutations.contactChanged.get(index) ?? 0) : 0;
      if (edits > 0 && typeof raw.note === 'string') {
        raw.note = `${raw.note}<p>Edited in CRM (revision ${edits}).</p>`;
      }
      if (moves > 0) raw.crm_person_id = movedPerson(tenant, traits, moves);
      if (edits + moves > 0) raw.updated_at = crmTimestamp(traits.updatedAtMs + (edits + moves) * DAY_MS);
      return raw;
    },
  };
}

/** A person CDP has a contact for, `moves` places on from the note's own (or from its index). */
function movedPerson(tenant: FakeTenant, traits: FakeNoteTraits, moves: number): number {
  const from = traits.personId === null ? traits.index : traits.personId - tenant.personIdBase;
  return tenant.personIdBase + ((from + moves) % tenant.personPoolSize);
}

/** The traits of note `index` after the mutations (its outcome is what a migration makes of it now). */
export function mutatedTraits(
  tenant: FakeTenant,
  mutations: FakeTenantMutations,
  index: number,
): FakeNoteTraits {
  const t = fakeNoteTraits(tenant, index);
  const moves = t.malformation === null ? (mutations.contactChanged.get(index) ?? 0) : 0;
  const edited = (mutations.edited.get(index) ?? 0) > 0 && t.malformation !== 'missing_note';
  let out = moves > 0 ? { ...t, personId: movedPerson(tenant, t, moves) } : t;
  // A note that failed only for want of a contact migrates now (it has no owner or attachment trouble).
  if (moves > 0 && (t.category === 'no_person' || t.category === 'person_not_in_cdp'))
    out = { ...out, category: 'migrated' };
  // The edit appends visible text, so a `<script>`-only note has something to show now.
  if (edited && out.category === 'empty_after_sanitize')
    out = { ...out, category: 'migrated', scriptOnlyBody: false };
  return out;
}

/** What reconcile must find and repair must do, against CDP holding the unmutated tenant's migration. */
export interface FakeMutationPlan {
  mutations: { edited: number[]; deleted: number[]; added: number[]; contact_changed: number[] };
  /** Verdicts over in-scope notes CRM serves now, plus `orphan`; note ids by verdict (except `ok`). */
  reconcile: {
    ok: number;
    missing: number[];
    stale: number[];
    still_failing: number[];
    orphan: number[];
  };
  repair: { inserts: number; replaces: number };
}

export function mutationPlanOf(tenant: FakeTenant, mutations: FakeTenantMutations): FakeMutationPlan {
  const plan: FakeMutationPlan = {
    mutations: {
      edited: [...mutations.edited.keys()].sort((a, b) => a - b).map((k) => tenant.firstNoteId + k),
      deleted: [...mutations.deleted].sort((a, b) => a - b).map((k) => tenant.firstNoteId + k),
      added: Array.from({ length: mutations.added }, (_, i) => tenant.firstNoteId + tenant.noteCount + i),
      contact_changed: [...mutations.contactChanged.keys()]
        .sort((a, b) => a - b)
        .map((k) => tenant.firstNoteId + k),
    },
    reconcile: { ok: 0, missing: [], stale: [], still_failing: [], orphan: [] },
    repair: { inserts: 0, replaces: 0 },
  };
  const r = plan.reconcile;
  for (let index = 0; index < tenant.noteCount + mutations.added; index++) {
    const id = tenant.firstNoteId + index;
    const before =
      index < tenant.noteCount ? expectedNoteOutcome(fakeNoteTraits(tenant, index)).status : null;
    if (mutations.deleted.has(index)) {
      if (before === 'migrated') r.orphan.push(id);
      continue;
    }
    const now = expectedNoteOutcome(mutatedTraits(tenant, mutations, index)).status;
    if (now === 'out_of_scope') continue;
    if (now === 'failed') r.still_failing.push(id);
    else if (before !== 'migrated') r.missing.push(id);
    else if (mutations.edited.has(index) || mutations.contactChanged.has(index)) r.stale.push(id);
    else r.ok++;
  }
  plan.repair = { inserts: r.missing.length, replaces: r.stale.length };
  return plan;
}
