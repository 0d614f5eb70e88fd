import { describe, expect, it } from 'vitest';

import type { CrmNoteResult } from '../../../../src/crm/crm-note.js';
import type { NewMigratedNote, NotesBatchResult } from '../../../../src/db/contact-notes-repository.js';
import type { NewFailure } from '../../../../src/db/failures-repository.js';
import { createSilentLogger } from '../../../../src/logger.js';
import { migrateKind } from '../../../../src/migration/kinds/migrate.js';
import { fingerprintOf } from '../../../../src/migration/note-fingerprint.js';
import type {
  AttachmentInput,
  AttachmentRehoster,
  NormalizeHtml,
} from '../../../../src/migration/pipeline-ports.js';
import type { PageOutcome, RunKindDeps } from '../../../../src/migration/run-step.js';
import { createContactResolver } from '../../../../src/resolve/contact-resolver.js';
import { createOwnerResolver } from '../../../../src/resolve/owner-resolver.js';
import { makeCrmNote, makeRun, ok } from '../../../fixtures/builders.js';
import { stepContext, UNUSED_PROVENANCE_QUERIES, UNUSED_UNDO_DEPS } from '../../../fixtures/kind-deps.js';

/** A stand-in normalizer: the real one has its own tests; here only its contract matters. */
const normalize: NormalizeHtml = (html) => {
  const text = html.replace(/<script[^>]*>.*?<\/script>/gs, '').replace(/<[^>]+>/g, '');
  if (html.length > 100)
    return { ok: false, reasonCode: 'NOTE_TOO_LONG', details: { length: html.length, maxLength: 100 } };
  return {
    ok: true,
    html: html.replace(/<script[^>]*>.*?<\/script>/gs, ''),
    hasVisibleText: text.trim().length > 0,
  };
};

interface PageCtx {
  page: number;
  /** The company already had migrated notes when the run was claimed (page mode `skip_existing`). */
  skipExisting: boolean;
  /** The first page after a takeover (page mode `replay`). */
  replay: boolean;
}

/** One page through the migrate kind's step, as the page loop drives it: begin → prepare → commit. */
async function processPage(
  deps: RunKindDeps,
  ctx: PageCtx,
  items: readonly CrmNoteResult[],
): Promise<PageOutcome> {
  const signal = new AbortController().signal;
  const step = await migrateKind.begin(
    {
      ...deps,
      contactNotes: { ...deps.contactNotes, hasLegacyNotes: () => Promise.resolve(ctx.skipExisting) },
    },
    stepContext(RUN, deps.logger, signal),
  );
  const plan = await step.prepare(
    { position: { page: ctx.page, cursor: null }, items, total: items.length, totalPages: 1, next: null },
    { replay: ctx.replay },
    signal,
  );
  return step.commit(plan);
}

const RUN = makeRun({ _id: 'run-1', cid: '100', company_sso_id: 'company-1' });
const unused = () => Promise.reject(new Error('not used by a page step'));

function harness(
  options: {
    contacts?: Record<string, string>;
    failAttachmentNamed?: string;
    refuseWriteOf?: string;
    /** What `countInsertedByRun` answers (notes this run wrote before a crash). */
    ownInserts?: number;
    /** Per page: what `countInsertedByRun` answers for notes this run wrote from that page. */
    ownInsertsByPage?: Record<number, number>;
  } = {},
) {
  const written: NewMigratedNote[] = [];
  const failures: NewFailure[] = [];
  const existing = new Set<string>();
  const calls = { existingLookups: 0, normalized: 0, attachmentNotes: 0 };
  const contacts = options.contacts ?? { '42': 'contact-42', '43': 'contact-43' };
  const attachments: AttachmentRehoster = {
    process: (_co, noteId, inputs: readonly AttachmentInput[]) => {
      calls.attachmentNotes++;
      const good = inputs.filter((i) => i.fileName !== options.failAttachmentNamed);
      const bad = inputs.filter((i) => i.fileName === options.failAttachmentNamed);
      return Promise.resolve({
        attachments: good.map((i) => ({
          type: i.kind === 'image' ? ('image' as const) : ('doc' as const),
          url: `https://cdp/${noteId}/${i.fileName}`,
          file_name: i.fileName ?? 'x',
          file_size_in_byte: 3,
        })),
        problems: bad.map((i) => ({
          reasonCode: 'ATTACHMENT_DOWNLOAD_FAILED' as const,
          url: i.url,
          fileName: i.fileName,
          message: 'HTTP 500',
        })),
      });
    },
  };
  const deps: RunKindDeps = {
    contacts: createContactResolver({
      contacts: {
        findContactIdsByCrmPersonIds: (_co, ids) =>
          Promise.resolve(new Map(ids.filter((id) => contacts[id]).map((id) => [id, contacts[id]!]))),
      },
    }),
    owners: createOwnerResolver({
      users: {
        findByCrmUserIds: (_co, ids) =>
          Promise.resolve(
            ids.includes('7')
              ? [
                  {
                    _id: 'u7',
                    sso_id: 'sso-7',
                    company_sso_id: 'c',
                    name: 'Alice',
                    email: 'a@x',
                    crm_user_id: '7',
                  },
                ]
              : [],
          ),
        findByEmails: (_co, emails) =>
          Promise.resolve(
            emails.some((e) => e.toLowerCase() === 'bob@example.com')
              ? [{ _id: 'u8', sso_id: 'sso-8', company_sso_id: 'c', name: 'Bob', email: 'bob@example.com' }]
              : [],
          ),
      },
    }),
    normalizeHtml: (html) => {
      calls.normalized++;
      return normalize(html);
    },
    attachments,
    vetAttachments: { urls: attachments, downloads: attachments },
    ...UNUSED_UNDO_DEPS,
    contactNotes: {
      ...UNUSED_PROVENANCE_QUERIES,
      createNotesBatch(notes): Promise<NotesBatchResult> {
        const out: NotesBatchResult = { migrated: 0, skipped: 0, failed: [], writtenIds: [] };
        for (const n of notes) {
          if (n.legacy_crm_note_id === options.refuseWriteOf) {
            out.failed.push({
              legacy_crm_note_id: n.legacy_crm_note_id,
              reasonCode: 'WRITE_FAILED',
              details: { message: 'refused' },
            });
            continue;
          }
          if (existing.has(n.legacy_crm_note_id)) out.skipped++;
          else {
            existing.add(n.legacy_crm_note_id);
            written.push(n);
            out.migrated++;
          }
          out.writtenIds.push(n.legacy_crm_note_id);
        }
        return Promise.resolve(out);
      },
      countInsertedByRun: (_co, _ids, _run, page) =>
        Promise.resolve(options.ownInsertsByPage?.[page] ?? options.ownInserts ?? 0),
      findExistingIds: (_co, ids) => {
        calls.existingLookups++;
        return Promise.resolve(new Set(ids.filter((id) => existing.has(id))));
      },
      hasLegacyNotes: unused,
      countLegacyNotes: unused,
      listForContact: unused,
    },
    extractor: { listPersonNotes: unused, probeOrganization: unused },
    config: { noteTypeAllowlist: [1, 6], maxFailureRate: 0.01, maxWarningRate: 0.5, matchPctThreshold: 0.99 },
    failures: {
      recordMany: (f) => {
        failures.push(...f);
        return Promise.resolve(f.length);
      },
    },
    logger: createSilentLogger(),
    now: () => new Date('2026-02-02T00:00:00Z'),
    attachmentNoteConcurrency: 4,
  };
  const ctx: PageCtx = { page: 1, skipExisting: false, replay: false };
  return { deps, ctx, written, failures, existing, calls };
}

const reasons = (failures: NewFailure[]) =>
  failures.map((f) => `${f.legacyCrmNoteId}:${f.reasonCode}`).sort();

describe('migrate kind: one page through its step', () => {
  it('migrates a clean page with CRM timestamps, string ids and a mapped owner', async () => {
    const h = harness();
    const notes = Array.from({ length: 10 }, (_, i) => ok(makeCrmNote({ id: String(i + 1) })));
    const out = await processPage(h.deps, h.ctx, notes);
    expect(out).toMatchObject({
      seen: 10,
      migrated: 10,
      skipped: 0,
      failed: 0,
      outOfScope: 0,
      unaccountedIds: [],
    });
    expect(h.written[0]).toMatchObject({
      contact_id: 'contact-42',
      owner_id: 'sso-7',
      legacy_crm_note_id: '1',
      created_at: new Date('2018-05-06T07:08:09.000Z'),
    });
    expect(h.written[0]).not.toHaveProperty('legacy_owner_label');
    expect(h.failures).toEqual([]);
  });

  it('counts out-of-scope note types without failing them', async () => {
    const h = harness();
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1', crmNoteTypeId: 3 })),
      ok(makeCrmNote({ id: '2', crmNoteTypeId: 6 })),
    ]);
    expect(out).toMatchObject({ seen: 2, migrated: 1, outOfScope: 1, failed: 0 });
    expect(h.failures).toEqual([]);
  });

  it('fails notes without a person or with an unknown person, even when other links are set', async () => {
    const h = harness();
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1', crmPersonId: null, crmCompanyId: '5', crmDealId: '6' })),
      ok(makeCrmNote({ id: '2', crmPersonId: '999' })),
      ok(makeCrmNote({ id: '3', crmPersonId: '43', crmCompanyId: '5' })),
    ]);
    expect(out).toMatchObject({ migrated: 1, failed: 2 });
    expect(reasons(h.failures)).toEqual(['1:CONTACT_NOT_MAPPED', '2:CONTACT_NOT_MAPPED']);
    expect(h.failures[0]?.details).toMatchObject({ crm_company_id: '5', crm_deal_id: '6' });
    expect(h.written[0]?.contact_id).toBe('contact-43');
  });

  it('keeps a note whose owner is unknown, with a readable label and a warning', async () => {
    const h = harness();
    await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1', creatorId: '99', creatorEmail: 'BOB@example.com' })),
      ok(makeCrmNote({ id: '2', creatorId: '99', creatorEmail: null, creatorName: 'Former Agent' })),
      ok(makeCrmNote({ id: '3', creatorId: null, creatorEmail: null, creatorName: null })),
    ]);
    expect(h.written.map((n) => [n.owner_id, n.legacy_owner_label])).toEqual([
      ['sso-8', undefined],
      [null, 'Former Agent'],
      [null, '[Legacy CRM User]'],
    ]);
    expect(reasons(h.failures)).toEqual(['2:OWNER_NOT_MAPPED', '3:OWNER_NOT_MAPPED']);
  });

  it('fails a note that is too long and one that is empty without attachments, but keeps an empty one with an attachment', async () => {
    const h = harness();
    const file = { url: 'https://crm/files/a.png', fileName: 'a.png', contentType: 'image/png', size: 3 };
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1', note: `<p>${'x'.repeat(200)}</p>` })),
      ok(makeCrmNote({ id: '2', note: '<script>alert(1)</script>' })),
      ok(makeCrmNote({ id: '3', note: '<script>alert(1)</script>', images: [file] })),
    ]);
    expect(out).toMatchObject({ migrated: 1, failed: 2 });
    expect(reasons(h.failures)).toEqual(['1:NOTE_TOO_LONG', '2:NOTE_EMPTY_AFTER_SANITIZE']);
    expect(h.written[0]?.attachments).toHaveLength(1);
  });

  it('records a failed attachment as a warning and keeps the note with the others', async () => {
    const h = harness({ failAttachmentNamed: 'bad.pdf' });
    const a = (name: string) => ({
      url: `https://crm/files/${name}`,
      fileName: name,
      contentType: null,
      size: null,
    });
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1', images: [a('one.png')], attachments: [a('bad.pdf'), a('two.pdf')] })),
    ]);
    expect(out).toMatchObject({ migrated: 1, failed: 0, withWarnings: 1 });
    expect(h.written[0]?.attachments?.map((x) => x.file_name)).toEqual(['one.png', 'two.pdf']);
    expect(reasons(h.failures)).toEqual(['1:ATTACHMENT_DOWNLOAD_FAILED']);
  });

  it('turns an invalid CRM note into one failure and goes on with the page', async () => {
    const h = harness();
    const invalid: CrmNoteResult = {
      ok: false,
      reasonCode: 'CRM_PAYLOAD_INVALID',
      legacyCrmNoteId: '2',
      details: { issues: [{ path: ['created_at'] }] },
    };
    const unreadable: CrmNoteResult = {
      ok: false,
      reasonCode: 'CRM_PAYLOAD_INVALID',
      legacyCrmNoteId: null,
      details: { issues: [] },
    };
    const out = await processPage(h.deps, h.ctx, [ok(makeCrmNote({ id: '1' })), invalid, unreadable]);
    expect(out).toMatchObject({ seen: 3, migrated: 1, failed: 2 });
    expect(reasons(h.failures)).toEqual([
      '2:CRM_PAYLOAD_INVALID',
      'invalid:page-1:index-2:CRM_PAYLOAD_INVALID',
    ]);
  });

  it('reports a database refusal as WRITE_FAILED and drops a check-in with a warning', async () => {
    const h = harness({ refuseWriteOf: '2' });
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1', checkin: { lat: 1, lng: 2 } })),
      ok(makeCrmNote({ id: '2' })),
    ]);
    expect(out).toMatchObject({ migrated: 1, failed: 1, withWarnings: 1 });
    expect(reasons(h.failures)).toEqual(['1:CRM_CHECKIN_DROPPED', '2:WRITE_FAILED']);
  });

  it('skips notes already in CDP on a re-run and puts every note in exactly one bucket', async () => {
    const h = harness();
    const page = [
      ok(makeCrmNote({ id: '1' })),
      ok(makeCrmNote({ id: '2', crmNoteTypeId: 9 })),
      ok(makeCrmNote({ id: '3', crmPersonId: null })),
      ok(makeCrmNote({ id: '4' })),
    ];
    await processPage(h.deps, h.ctx, page);
    const again = await processPage(h.deps, h.ctx, page);
    expect(again).toMatchObject({
      seen: 4,
      migrated: 0,
      skipped: 2,
      failed: 1,
      outOfScope: 1,
      unaccountedIds: [],
    });
    expect(again.migrated + again.skipped + again.failed + again.outOfScope).toBe(again.seen);
  });

  it('on a re-run, skips notes already in CDP before any lookup, sanitizing or attachment download', async () => {
    const h = harness();
    const withFile = (id: string) =>
      ok(
        makeCrmNote({
          id,
          images: [
            { url: `https://crm/${id}.png`, fileName: `${id}.png`, contentType: 'image/png', size: 3 },
          ],
        }),
      );
    const first = [withFile('1'), withFile('2'), ok(makeCrmNote({ id: '3', crmPersonId: null }))];
    await processPage(h.deps, h.ctx, first);
    const failuresAfterFirst = h.failures.length;
    h.calls.normalized = 0;
    h.calls.attachmentNotes = 0;

    const again = await processPage(h.deps, { ...h.ctx, skipExisting: true }, [
      ...first,
      withFile('4'),
      ok(makeCrmNote({ id: '5', crmNoteTypeId: 9 })),
    ]);
    expect(again).toMatchObject({
      seen: 5,
      migrated: 1,
      skipped: 2,
      failed: 1,
      outOfScope: 1,
      unaccountedIds: [],
    });
    expect(h.calls.existingLookups).toBe(1);
    // Only the note without a contact (3) and the new one (4) were sanitized; only 4 was re-hosted.
    expect(h.calls.normalized).toBe(2);
    expect(h.calls.attachmentNotes).toBe(1);
    expect(h.written.map((n) => n.legacy_crm_note_id)).toEqual(['1', '2', '4']);
    expect(reasons(h.failures.slice(failuresAfterFirst))).toEqual(['3:CONTACT_NOT_MAPPED']);
  });

  it('takes the full path on a replayed page even when the company already has notes', async () => {
    const h = harness();
    const page = [ok(makeCrmNote({ id: '1' })), ok(makeCrmNote({ id: '2' }))];
    await processPage(h.deps, h.ctx, page);
    const replay = await processPage(h.deps, { ...h.ctx, skipExisting: true, replay: true }, page);
    expect(h.calls.existingLookups).toBe(0);
    expect(replay).toMatchObject({ seen: 2, skipped: 2, unaccountedIds: [] });
  });

  it('counts a repeated id within one page once, as a payload problem for the copy', async () => {
    const h = harness();
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1' })),
      ok(makeCrmNote({ id: '1' })),
    ]);
    expect(out).toMatchObject({ seen: 2, migrated: 1, failed: 1 });
    expect(h.failures[0]?.reasonCode).toBe('CRM_PAYLOAD_INVALID');
  });

  it('writes provenance on every inserted note: the run id and the fingerprint of what it wrote (#12)', async () => {
    const h = harness();
    await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1' })),
      ok(makeCrmNote({ id: '2', creatorId: null, creatorEmail: null, creatorName: 'Gone' })),
    ]);
    expect(h.written).toHaveLength(2);
    for (const n of h.written) {
      expect(n.legacy_migration_run_id).toBe('run-1');
      expect(n.legacy_fingerprint).toBe(fingerprintOf(n));
      expect(n.legacy_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(h.written[0]?.legacy_fingerprint).not.toBe(h.written[1]?.legacy_fingerprint);
  });

  it('on a replayed page, counts notes this run inserted before a crash as migrated, the rest as skipped (#12)', async () => {
    // Three notes already in CDP: two written by this run before it died, one by an earlier run.
    const h = harness({ ownInserts: 3 });
    for (const id of ['1', '2', '3']) h.existing.add(id);
    const out = await processPage(h.deps, { ...h.ctx, replay: true }, [
      ok(makeCrmNote({ id: '1' })),
      ok(makeCrmNote({ id: '2' })),
      ok(makeCrmNote({ id: '3' })),
      ok(makeCrmNote({ id: '4' })),
    ]);
    // countInsertedByRun sees 3 of its own: the one upserted now (4) and two matched (1, 2).
    expect(out).toMatchObject({ seen: 4, migrated: 3, skipped: 1, failed: 0, unaccountedIds: [] });
  });

  it('on any page, counts notes its own write of this page already inserted as migrated (a write applied twice)', async () => {
    // Both notes are in CDP from this run's page 1: the database applied the page's write twice.
    const h = harness({ ownInsertsByPage: { 1: 2 } });
    for (const id of ['1', '2']) h.existing.add(id);
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1' })),
      ok(makeCrmNote({ id: '2' })),
    ]);
    expect(out).toMatchObject({ seen: 2, migrated: 2, skipped: 0, failed: 0, unaccountedIds: [] });
  });

  it('keeps a CRM duplicate of a note this run wrote from another page skipped', async () => {
    // Note 1 came on page 0 already; on page 1 only note 2 (upserted now) is the page's own.
    const h = harness({ ownInsertsByPage: { 0: 1, 1: 1 } });
    h.existing.add('1');
    const out = await processPage(h.deps, h.ctx, [
      ok(makeCrmNote({ id: '1' })),
      ok(makeCrmNote({ id: '2' })),
    ]);
    expect(out).toMatchObject({ seen: 2, migrated: 1, skipped: 1, failed: 0 });
  });
});
