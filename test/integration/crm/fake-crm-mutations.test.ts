/**
 * The fake CRM's mutation route over a real port (#14): a tenant changed while the server runs is
 * served changed at once, the plan says what reconcile must find, and bad requests change nothing.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../../src/crm/fake/fake-crm-server.js';
import { startTrackedFakeCrm } from '../../helpers/fake-crm.js';

let fake: FakeCrm;

beforeAll(async () => {
  fake = await startTrackedFakeCrm(
    { tenants: [{ cid: '61', companySsoId: 'co-61', noteCount: 6, seed: 2, preset: 'clean' }] },
    'file',
  );
});

afterAll(() => fake.stop());

async function post(path: string, body: string) {
  const res = await request(`${fake.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

async function ids(): Promise<{ ids: number[]; total: number }> {
  const res = await request(`${fake.url}/v1/organizations/61/person_notes?page=1&per_page=100`, {
    headers: { authorization: FAKE_CRM_DEFAULT_AUTH },
  });
  const page = (await res.body.json()) as { data: { id: number }[]; meta: { total: number } };
  return { ids: page.data.map((n) => n.id), total: page.meta.total };
}

describe('POST /_fake/tenants/{cid}/mutations', () => {
  it.each([
    ['not JSON', 'edit=1'],
    ['an index past the end', '{"edit":[6]}'],
    ['a negative index', '{"delete":[-1]}'],
    ['an unknown field', '{"rename":[1]}'],
    ['indices as strings', '{"edit":["1"]}'],
    ['a fractional add', '{"add":1.5}'],
    ['an array body', '[1]'],
  ])('refuses %s with 400 and changes nothing', async (_name, body) => {
    const before = await ids();
    const res = await post('/_fake/tenants/61/mutations', body);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_mutation');
    expect(await ids()).toEqual(before);
  });

  it('answers 404 for an unknown tenant and 405 for another method', async () => {
    expect((await post('/_fake/tenants/99/mutations', '{"add":1}')).status).toBe(404);
    const put = await request(`${fake.url}/_fake/tenants/61/mutations`, { method: 'PUT', body: '{}' });
    expect(put.statusCode).toBe(405);
    await put.body.dump();
  });

  it('serves the change at once and plans what reconcile must find', async () => {
    const plan = fake.plan('61');
    const first = plan.firstNoteId;
    const res = await post('/_fake/tenants/61/mutations', '{"edit":[1],"delete":[2],"add":1}');
    expect(res.status).toBe(200);
    expect(await ids()).toEqual({ ids: [0, 1, 3, 4, 5, 6].map((k) => first + k), total: 6 });
    expect((res.json.plan as { mutation: unknown }).mutation).toMatchObject({
      reconcile: { ok: 4, stale: [first + 1], orphan: [first + 2], missing: [first + 6] },
      repair: { inserts: 1, replaces: 1 },
    });
    const read = await request(`${fake.url}/_fake/tenants/61/mutations`);
    expect(((await read.body.json()) as { plan: { notesTotal: number } }).plan.notesTotal).toBe(6);
  });
});
