import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CrmNoteResult } from '../../../src/crm/crm-note.js';
import type { RetryInfo } from '../../../src/crm/crm-retry.js';
import type { FakeCrm, FakeNotesRequestInfo } from '../../../src/crm/fake/fake-crm-server.js';
import { FAKE_CRM_DEFAULT_AUTH } from '../../../src/crm/fake/fake-crm-server.js';
import {
  createHttpCrmNotesExtractor,
  type HttpCrmNotesExtractorDeps,
} from '../../../src/crm/http-crm-notes-extractor.js';
import { UpstreamError } from '../../../src/errors.js';
import { createSilentLogger } from '../../../src/logger.js';
import { recordingSleeper, startTrackedFakeCrm, withFakeCrm } from '../../helpers/fake-crm.js';

let fake: FakeCrm;
let requests: FakeNotesRequestInfo[] = [];

beforeAll(async () => {
  fake = await startTrackedFakeCrm(
    {
      tenants: [
        { cid: '1001', companySsoId: 'co-1001', noteCount: 10_000, seed: 1 },
        { cid: 'clean', companySsoId: 'co-clean', noteCount: 120, seed: 2, preset: 'clean' },
      ],
      onNotesRequest: (info) => {
        requests.push(info);
        return null;
      },
    },
    'file',
  );
});
afterAll(() => fake.stop());

function client(overrides: Partial<HttpCrmNotesExtractorDeps> = {}) {
  const sleeper = recordingSleeper();
  const retries: RetryInfo[] = [];
  requests = [];
  const crm = createHttpCrmNotesExtractor({
    rootUrl: fake.url,
    auth: FAKE_CRM_DEFAULT_AUTH,
    timeoutMs: 5_000,
    maxRetryAfterMs: 30_000,
    sleep: sleeper.sleep,
    logger: createSilentLogger(),
    onRetry: (info) => retries.push(info),
    ...overrides,
  });
  return { crm, slept: sleeper.slept, retries };
}

const idOf = (r: CrmNoteResult) => (r.ok ? r.note.id : r.legacyCrmNoteId);

describe('HTTP CRM notes extractor', () => {
  it('sends the Authorization header on every request, retries included', async () => {
    const { crm } = client();
    fake.injectFaults({ kind: 'status', status: 502 }, 2);
    await crm.listPersonNotes('clean', 1, 10);
    expect(requests).toHaveLength(3);
    expect(requests.map((r) => r.headers.authorization)).toEqual(Array(3).fill(FAKE_CRM_DEFAULT_AUTH));
  });

  it('fails a wrong Authorization at once with CRM_REQUEST_REJECTED, naming the setting to check', async () => {
    const { crm, slept } = client({ auth: 'Token wrong' });
    const error = await crm.listPersonNotes('clean', 1, 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'CRM_REQUEST_REJECTED', details: { status: 401 } });
    expect((error as Error).message).toContain('CRM_API_AUTH');
    expect(slept).toEqual([]);
  });

  it('returns the page after three 5xx answers, having waited 1 s, 3 s and 9 s', async () => {
    const { crm, slept, retries } = client();
    fake.injectFaults({ kind: 'status', status: 503 }, 3);
    const page = await crm.listPersonNotes('clean', 2, 50);
    expect(page).toMatchObject({ page: 2, perPage: 50, total: 120, totalPages: 3 });
    expect(page.notes).toHaveLength(50);
    expect(slept).toEqual([1000, 3000, 9000]);
    expect(retries.map((r) => [r.attempt, r.status])).toEqual([
      [1, 503],
      [2, 503],
      [3, 503],
    ]);
  });

  it('gives up with CRM_EXTRACT_FAILED after exactly 4 attempts when 5xx keeps coming', async () => {
    const { crm, slept } = client();
    fake.injectFaults({ kind: 'status', status: 500 }, 4);
    const error = await crm.listPersonNotes('1001', 7, 500).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'CRM_EXTRACT_FAILED',
      details: { lastStatus: 500, attempts: 4, cid: '1001', page: 7 },
    });
    expect(requests).toHaveLength(4);
    expect(slept).toEqual([1000, 3000, 9000]);
  });

  it('waits what Retry-After says in seconds on a 429', async () => {
    const { crm, slept } = client();
    fake.injectFaults({ kind: 'status', status: 429, retryAfter: '7' });
    await crm.listPersonNotes('clean', 1, 10);
    expect(slept).toEqual([7000]);
  });

  it('waits until the HTTP-date of Retry-After, read against the injected clock', async () => {
    const now = new Date('2024-05-01T10:00:00Z');
    const { crm, slept } = client({ now: () => now });
    fake.injectFaults({
      kind: 'status',
      status: 429,
      retryAfter: new Date(now.getTime() + 12_000).toUTCString(),
    });
    await crm.listPersonNotes('clean', 1, 10);
    expect(slept).toEqual([12_000]);
  });

  it('cuts a Retry-After longer than the cap down to the cap', async () => {
    const { crm, slept } = client({ maxRetryAfterMs: 20_000 });
    fake.injectFaults({ kind: 'status', status: 429, retryAfter: '3600' });
    await crm.listPersonNotes('clean', 1, 10);
    expect(slept).toEqual([20_000]);
  });

  it('retries a 423 Locked on the normal schedule', async () => {
    const { crm, slept } = client();
    fake.injectFaults({ kind: 'status', status: 423 });
    await crm.listPersonNotes('clean', 1, 10);
    expect(slept).toEqual([1000]);
  });

  it('abandons a response slower than the timeout and retries, instead of waiting for it', async () => {
    const { crm, retries } = client({ timeoutMs: 150 });
    fake.injectFaults({ kind: 'slow', delayMs: 120_000 });
    const started = Date.now();
    const page = await crm.listPersonNotes('clean', 1, 10);
    expect(page.notes).toHaveLength(10);
    expect(retries.map((r) => [r.status, r.reason])).toEqual([[null, 'timeout']]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it.each(['before_headers', 'mid_body'] as const)('retries a connection dropped %s', async (when) => {
    const { crm, retries } = client();
    fake.injectFaults({ kind: 'drop', when });
    const page = await crm.listPersonNotes('clean', 1, 100);
    expect(page.notes).toHaveLength(100);
    expect(retries.map((r) => r.reason)).toEqual(['connection_error']);
  });

  it('retries a body that is not JSON (a cut-off transfer)', async () => {
    const { crm, retries } = client();
    fake.injectFaults({ kind: 'garbled_body' });
    await crm.listPersonNotes('clean', 1, 100);
    expect(retries.map((r) => [r.status, r.reason])).toEqual([[200, 'invalid_json']]);
  });

  it('fails the page with CRM_PAYLOAD_INVALID, without retrying, when the envelope breaks the contract', async () => {
    const { crm, slept } = client();
    fake.injectFaults({ kind: 'malformed_envelope' });
    const error = await crm.listPersonNotes('clean', 1, 10).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CRM_PAYLOAD_INVALID', details: { cid: 'clean', page: 1 } });
    expect((error as UpstreamError).details.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'data' })]),
    );
    expect(slept).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it('answers CID_NOT_FOUND for an org CRM does not know, without retrying', async () => {
    const { crm, slept } = client();
    await expect(crm.listPersonNotes('nope', 1, 10)).rejects.toMatchObject({
      code: 'CID_NOT_FOUND',
      status: 404,
    });
    expect(slept).toEqual([]);
  });

  it.each([400, 403, 409])('does not retry a %i', async (status) => {
    const { crm, slept } = client();
    fake.injectFaults({ kind: 'status', status });
    await expect(crm.listPersonNotes('clean', 1, 10)).rejects.toMatchObject({
      code: 'CRM_REQUEST_REJECTED',
      details: { status },
    });
    expect(slept).toEqual([]);
  });

  it('yields the other notes plus one CRM_PAYLOAD_INVALID when one note of the page is malformed', async () => {
    const { crm } = client();
    fake.injectFaults({ kind: 'corrupt_notes', positions: [3] });
    const page = await crm.listPersonNotes('clean', 1, 50);
    expect(page.notes).toHaveLength(50);
    const invalid = page.notes.filter((n) => !n.ok);
    const firstId = Number(idOf(page.notes[0]!));
    expect(invalid).toEqual([
      {
        ok: false,
        reasonCode: 'CRM_PAYLOAD_INVALID',
        legacyCrmNoteId: String(firstId + 3),
        details: { issues: [expect.objectContaining({ path: 'crm_note_type_id' })] },
      },
    ]);
    expect(page.notes.filter((n) => n.ok)).toHaveLength(49);
  });

  it('pages through 10,000 notes of one CID returning every note exactly once, in order', async () => {
    const { crm } = client();
    const ids: string[] = [];
    let totalPages = 1;
    for (let page = 1; page <= totalPages; page++) {
      const result = await crm.listPersonNotes('1001', page, 1000);
      totalPages = result.totalPages;
      expect(result.total).toBe(10_000);
      for (const n of result.notes) ids.push(idOf(n) ?? 'unreadable');
    }
    expect(totalPages).toBe(10);
    expect(ids).toHaveLength(10_000);
    expect(new Set(ids).size).toBe(10_000);
    const first = Number(ids[0]);
    expect(ids.every((id, i) => Number(id) === first + i)).toBe(true);
    const plan = fake.plan('1001');
    expect(String(plan.firstNoteId)).toBe(ids[0]);
    expect(String(plan.lastNoteId)).toBe(ids.at(-1));
  });

  it('stops at once, without retrying, when the caller aborts', async () => {
    const { crm, slept } = client();
    fake.injectFaults({ kind: 'slow', delayMs: 120_000 });
    const controller = new AbortController();
    const pending = crm.listPersonNotes('clean', 1, 10, controller.signal);
    setTimeout(() => controller.abort(new Error('run cancelled by operator')), 50);
    await expect(pending).rejects.toThrow('run cancelled by operator');
    expect(slept).toEqual([]);
  });

  it('reports a CRM that refuses connections as CRM_EXTRACT_FAILED with no last status', async () => {
    const closed = await withFakeCrm({ tenants: [] }, (f) => Promise.resolve(f.url));
    const { crm, slept } = client({ rootUrl: closed });
    await expect(crm.listPersonNotes('1001', 1, 10)).rejects.toMatchObject({
      code: 'CRM_EXTRACT_FAILED',
      details: { lastStatus: null, lastReason: 'connection_error', attempts: 4 },
    });
    expect(slept).toEqual([1000, 3000, 9000]);
  });
});

describe('HTTP CRM notes extractor: probeOrganization', () => {
  it('returns the number of notes CRM holds for the CID', async () => {
    const { crm } = client();
    expect(await crm.probeOrganization('1001')).toEqual({ total: 10_000 });
    expect(requests.map((r) => [r.page, r.perPage])).toEqual([[1, 1]]);
  });

  it('answers CID_NOT_FOUND for an unknown org', async () => {
    const { crm } = client();
    await expect(crm.probeOrganization('nope')).rejects.toMatchObject({ code: 'CID_NOT_FOUND' });
  });

  it('gives up quickly with CRM_UNAVAILABLE when CRM keeps failing', async () => {
    const { crm, slept } = client();
    fake.injectFaults({ kind: 'status', status: 503 }, 3);
    await expect(crm.probeOrganization('1001')).rejects.toMatchObject({
      code: 'CRM_UNAVAILABLE',
      status: 502,
      details: { lastStatus: 503, attempts: 3, cid: '1001' },
    });
    expect(slept).toEqual([250, 750]);
  });
});
