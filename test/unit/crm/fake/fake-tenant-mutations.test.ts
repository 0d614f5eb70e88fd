import { describe, expect, it } from 'vitest';

import { createFakeNoteGenerator } from '../../../../src/crm/fake/fake-note-generator.js';
import { fakeNotesPageChunks } from '../../../../src/crm/fake/fake-notes-page.js';
import {
  applyMutations,
  mutatedListing,
  mutationPlanOf,
  NO_MUTATIONS,
  parseMutationRequest,
  parseMutationSpec,
} from '../../../../src/crm/fake/fake-tenant-mutations.js';
import { resolveFakeTenant } from '../../../../src/crm/fake/fake-tenant-options.js';

const tenant = resolveFakeTenant({
  cid: '77',
  companySsoId: 'co-77',
  noteCount: 10,
  seed: 3,
  preset: 'clean',
});
const generator = createFakeNoteGenerator(tenant, 'http://fake.test');
const idsOf = (page: number, perPage: number, mutations = NO_MUTATIONS) =>
  JSON.parse(
    [...fakeNotesPageChunks(generator, page, perPage, {}, mutatedListing(generator, mutations))].join(''),
  ) as {
    data: { id: number }[];
    meta: { total: number };
  };

describe('fake tenant mutations (#14)', () => {
  it('lists the notes left after deletes and the notes added after the last one, page by page', () => {
    const m = applyMutations(tenant, NO_MUTATIONS, { delete: [0, 4], add: 2 });
    const first = tenant.firstNoteId;
    expect(idsOf(1, 5, m).data.map((n) => n.id)).toEqual([1, 2, 3, 5, 6].map((k) => first + k));
    expect(idsOf(2, 5, m).data.map((n) => n.id)).toEqual([7, 8, 9, 10, 11].map((k) => first + k));
    expect(idsOf(1, 5, m).meta.total).toBe(10);
  });

  it('edits a note deterministically: new text, a later updated_at, the same bytes every time', () => {
    const m = applyMutations(tenant, NO_MUTATIONS, { edit: [2] });
    const before = generator.note(2);
    const after = mutatedListing(generator, m).note(2);
    expect(after.note).toBe(`${String(before.note)}<p>Edited in CRM (revision 1).</p>`);
    expect(after.updated_at).not.toBe(before.updated_at);
    expect(mutatedListing(generator, m).note(2)).toEqual(after);
  });

  it('moves a note to another person CDP has a contact for', () => {
    const m = applyMutations(tenant, NO_MUTATIONS, { contact: [1] });
    const person = mutatedListing(generator, m).note(1).crm_person_id as number;
    expect(person).not.toBe(generator.note(1).crm_person_id);
    expect(person - tenant.personIdBase).toBeGreaterThanOrEqual(0);
    expect(person - tenant.personIdBase).toBeLessThan(tenant.personPoolSize);
  });

  it('plans what reconcile must find against the unmutated migration', () => {
    const m = applyMutations(tenant, NO_MUTATIONS, { edit: [1], contact: [2], delete: [3], add: 2 });
    const plan = mutationPlanOf(tenant, m);
    const id = (k: number) => tenant.firstNoteId + k;
    expect(plan.reconcile).toEqual({
      ok: 7,
      missing: [id(10), id(11)],
      stale: [id(1), id(2)],
      still_failing: [],
      orphan: [id(3)],
    });
    expect(plan.repair).toEqual({ inserts: 2, replaces: 2 });
  });

  it('refuses what it cannot apply, naming every problem', () => {
    expect(() => applyMutations(tenant, NO_MUTATIONS, { edit: [10], delete: [-1], add: 1.5 })).toThrow(
      /add must be an integer.*edit: note index must be an integer from 0 to 9.*delete: note index/,
    );
    const deleted = applyMutations(tenant, NO_MUTATIONS, { delete: [4] });
    expect(() => applyMutations(tenant, deleted, { edit: [4] })).toThrow(/note 4 is deleted/);
    expect(() => parseMutationSpec('drop:1')).toThrow(/edit:K, delete:K, contact:K/);
    expect(parseMutationSpec('add:3')).toEqual({ add: 3 });
    expect(parseMutationSpec('edit:3')).toEqual({ edit: [3] });
    expect(() => parseMutationRequest({ edit: '3' })).toThrow(/edit must be an array/);
    expect(() => parseMutationRequest({ rename: [1] })).toThrow(/unknown field "rename"/);
    expect(() => parseMutationRequest([1])).toThrow(/JSON object/);
  });
});
