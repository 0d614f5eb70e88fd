import { fileTypeFromBuffer } from 'file-type';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  FAKE_CRM_DEFAULT_AUTH,
  type FakeCrm,
  type FakeCrmOptions,
} from '../../../src/crm/fake/fake-crm-server.js';
import { createFakeNoteGenerator } from '../../../src/crm/fake/fake-note-generator.js';
import { resolveFakeTenant } from '../../../src/crm/fake/fake-tenant-options.js';
import { startTrackedFakeCrm, withFakeCrm } from '../../helpers/fake-crm.js';
import { mimeFamily } from '../../helpers/fake-crm-scan.js';
import { waitFor } from '../../helpers/wait-for.js';

const AUTH = { authorization: FAKE_CRM_DEFAULT_AUTH };
const TENANT = { cid: '2002', companySsoId: 'co-2002', noteCount: 3000, seed: 9, preset: 'messy' as const };

async function get(url: string, headers: Record<string, string> = AUTH) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

let fake: FakeCrm;
beforeAll(async () => {
  fake = await startTrackedFakeCrm({ tenants: [TENANT] }, 'file');
});
afterAll(() => fake.stop());

describe('fake CRM server', () => {
  it('answers 401 without the expected Authorization header', async () => {
    const url = `${fake.url}/v1/organizations/2002/person_notes?page=1&per_page=10`;
    expect((await get(url, {})).status).toBe(401);
    expect((await get(url, { authorization: 'Token other' })).status).toBe(401);
    expect((await get(url)).status).toBe(200);
  });

  it('answers 404 for an unknown org, 400 for bad paging and 405 for writes', async () => {
    expect((await get(`${fake.url}/v1/organizations/9999/person_notes?page=1&per_page=10`)).status).toBe(404);
    expect((await get(`${fake.url}/v1/organizations/2002/person_notes?page=0&per_page=10`)).status).toBe(400);
    expect((await get(`${fake.url}/v1/organizations/2002/person_notes?page=1&per_page=1001`)).status).toBe(
      400,
    );
    const post = await request(`${fake.url}/v1/organizations/2002/person_notes`, {
      method: 'POST',
      headers: AUTH,
    });
    await post.body.dump();
    expect(post.statusCode).toBe(405);
  });

  it('streams pages chunked, byte-identical to the pure generator', async () => {
    const res = await get(`${fake.url}/v1/organizations/2002/person_notes?page=2&per_page=1000`);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const { fakeNotesPageChunks } = await import('../../../src/crm/fake/fake-notes-page.js');
    const expected = [
      ...fakeNotesPageChunks(createFakeNoteGenerator(resolveFakeTenant(TENANT), fake.url), 2, 1000),
    ].join('');
    expect(res.body.toString('utf8')).toBe(expected);
  });

  it('serves byte-identical pages from two servers with the same seed', async () => {
    const options: FakeCrmOptions = { tenants: [TENANT], publicUrl: 'http://crm-files.test' };
    const page = (f: FakeCrm) => get(`${f.url}/v1/organizations/2002/person_notes?page=3&per_page=500`);
    const [a, b] = await Promise.all([withFakeCrm(options, page), withFakeCrm(options, page)]);
    expect(a.body.length).toBeGreaterThan(100_000);
    expect(a.body.equals(b.body)).toBe(true);
  });

  it('serves every attachment a page points at with its declared size, and 404 for the missing ones', async () => {
    const res = await get(`${fake.url}/v1/organizations/2002/person_notes?page=1&per_page=1000`);
    const notes = (JSON.parse(res.body.toString('utf8')) as { data: Array<Record<string, unknown>> }).data;
    const tenant = resolveFakeTenant(TENANT);
    const generator = createFakeNoteGenerator(tenant, fake.url);
    const seen: Record<string, number> = {};
    for (const raw of notes) {
      const traits = generator.traits(Number(raw.id) - tenant.firstNoteId);
      if (traits.category === 'malformed') continue;
      const lists = {
        crm_note_images: 'images',
        crm_note_audios: 'audios',
        crm_note_attachments: 'attachments',
      };
      const files = Object.entries(lists).flatMap(([key, list]) => {
        const planted = traits.attachments.filter((a) => a.list === list);
        return (raw[key] as Array<{ url: string; size: number; content_type: string }>).map((file, i) => ({
          file,
          outcome: planted[i]!.outcome,
        }));
      });
      for (const { file, outcome } of files) {
        seen[outcome] = (seen[outcome] ?? 0) + 1;
        if (outcome === 'ssrf_blocked') {
          expect(new URL(file.url).hostname).toBe('169.254.169.254');
          continue;
        }
        if (outcome === 'too_large') {
          const head = await request(file.url, { method: 'HEAD' });
          await head.body.dump();
          expect(Number(head.headers['content-length'])).toBe(file.size);
          expect(file.size).toBeGreaterThan(25 * 1024 * 1024);
          continue;
        }
        const got = await get(file.url, {});
        if (outcome === 'download_failed') {
          expect(got.status).toBe(404);
          continue;
        }
        expect(got.status).toBe(200);
        expect(got.body.length).toBe(file.size);
        expect(got.headers['content-type']).toBe(file.content_type);
        const detected = mimeFamily((await fileTypeFromBuffer(got.body))?.mime);
        if (outcome === 'ok') expect(detected, file.url).toBe(mimeFamily(file.content_type));
        else expect(detected, file.url).not.toBe(mimeFamily(file.content_type));
      }
    }
    expect(Object.keys(seen).sort()).toEqual([
      'download_failed',
      'ok',
      'ssrf_blocked',
      'too_large',
      'type_mismatch',
    ]);
  });

  it('streams a 25 MiB attachment completely', async () => {
    const tenant = resolveFakeTenant(TENANT);
    const generator = createFakeNoteGenerator(tenant, fake.url);
    let index = 0;
    while (!generator.traits(index).attachments.some((a) => a.outcome === 'too_large')) index++;
    const raw = generator.note(index);
    const url = ['crm_note_images', 'crm_note_audios', 'crm_note_attachments']
      .flatMap((key) => raw[key] as Array<{ url: string; size: number }>)
      .find((f) => f.size > 25 * 1024 * 1024)!;
    const res = await request(url.url);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    expect(bytes).toBe(url.size);
  });

  it('injects share-based faults in the same order for the same fault seed', async () => {
    const options: FakeCrmOptions = {
      tenants: [{ ...TENANT, noteCount: 10 }],
      faults: { seed: 3, serverErrorShare: 0.3, rateLimitShare: 0.2, lockedShare: 0.1, retryAfter: '2' },
    };
    const statuses = (f: FakeCrm) =>
      Array.from({ length: 40 }).reduce<Promise<string[]>>(async (acc) => {
        const list = await acc;
        const res = await get(`${f.url}/v1/organizations/2002/person_notes?page=1&per_page=5`);
        return [
          ...list,
          `${res.status}${res.headers['retry-after'] ? `/${String(res.headers['retry-after'])}` : ''}`,
        ];
      }, Promise.resolve([]));
    const first = await withFakeCrm(options, statuses);
    const second = await withFakeCrm(options, statuses);
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(
      new Set(['200', '429/2', '423', ...first.filter((s) => s.startsWith('50'))]),
    );
    expect(first.filter((s) => s === '200').length).toBeGreaterThan(5);
  });

  it('closes slow responses when stopped instead of waiting for them', async () => {
    const slow = await startTrackedFakeCrm({ tenants: [TENANT], faults: { slowShare: 1, slowMs: 600_000 } });
    const pending = request(`${slow.url}/v1/organizations/2002/person_notes?page=1&per_page=5`, {
      headers: AUTH,
    });
    const outcome = pending.then(
      () => 'answered',
      () => 'connection closed',
    );
    await waitFor(
      () => slow.stats.notesRequests,
      (n) => n > 0,
      { intervalMs: 5, what: 'the slow request to arrive' },
    );
    const started = Date.now();
    await slow.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await outcome).toBe('connection closed');
    expect(slow.stats.faults.slow).toBe(1);
  });
});
