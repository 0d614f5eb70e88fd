/**
 * An in-memory CDP and CRM for unit tests of the kinds that compare CRM pages with CDP
 * (reconcile, repair): notes stored by CRM id, contacts by person id, seen ids and findings
 * recorded. Writes are applied to the map, so a test sees what a kind changed.
 */
import { ObjectId } from 'mongodb';

import type { CrmNote, CrmNoteResult } from '../../../../src/crm/crm-note.js';
import type { StoredNoteDoc } from '../../../../src/db/contact-notes-provenance.js';
import type { NewMigratedNote } from '../../../../src/db/contact-notes-repository.js';
import type { NewFailure } from '../../../../src/db/failures-repository.js';
import { createSilentLogger } from '../../../../src/logger.js';
import { migratedNoteOf } from '../../../../src/migration/migrated-note.js';
import type { AttachmentRehoster } from '../../../../src/migration/pipeline-ports.js';
import type { PageOutcome, RunKindDeps, RunKindModule } from '../../../../src/migration/run-step.js';
import { createContactResolver } from '../../../../src/resolve/contact-resolver.js';
import { createOwnerResolver } from '../../../../src/resolve/owner-resolver.js';
import { makeRun, ok } from '../../../fixtures/builders.js';
import {
  stepContext,
  UNUSED_CONTACT_NOTES,
  UNUSED_SCRATCH,
  UNUSED_UNDO_DEPS,
} from '../../../fixtures/kind-deps.js';

export const COMPANY = 'co-u';

export function storedOf(note: NewMigratedNote): StoredNoteDoc {
  return { _id: new ObjectId(), ...note };
}

export function compareHarness(options: {
  contacts: string[];
  kind: 'reconcile' | 'repair';
  uploadFails?: string[];
}) {
  const run = makeRun({
    _id: `${options.kind}-run`,
    cid: '11',
    company_sso_id: COMPANY,
    kind: options.kind,
    page_size: 10,
  });
  const cdp = new Map<string, StoredNoteDoc>();
  const seen = new Set<string>();
  const failures: NewFailure[] = [];
  const uploads: string[] = [];
  const rehoster = (upload: boolean): AttachmentRehoster => ({
    process: (_co, noteId, inputs) => {
      const failed = upload && options.uploadFails?.includes(noteId);
      if (upload && !failed) uploads.push(noteId);
      return Promise.resolve({
        attachments: failed
          ? []
          : inputs.map((i) => ({
              type: 'pdf' as const,
              url: `https://cdp/${noteId}/${i.fileName}`,
              file_name: i.fileName ?? 'f',
              file_size_in_byte: 1,
            })),
        problems: failed
          ? inputs.map((i) => ({
              reasonCode: 'ATTACHMENT_UPLOAD_FAILED' as const,
              url: i.url,
              fileName: i.fileName,
              message: 'S3 down',
            }))
          : [],
      });
    },
  });
  const deps: RunKindDeps = {
    ...UNUSED_UNDO_DEPS,
    // The check stage (what reconcile compares) never uploads, so it never fails an upload.
    vetAttachments: { urls: rehoster(false), downloads: rehoster(false) },
    attachments: rehoster(true),
    contacts: createContactResolver({
      contacts: {
        findContactIdsByCrmPersonIds: (_co, ids) =>
          Promise.resolve(
            new Map(ids.filter((id) => options.contacts.includes(id)).map((id) => [id, `contact-${id}`])),
          ),
      },
    }),
    owners: createOwnerResolver({
      users: { findByCrmUserIds: () => Promise.resolve([]), findByEmails: () => Promise.resolve([]) },
    }),
    normalizeHtml: (html) => ({ ok: true, html, hasVisibleText: html.length > 0 }),
    contactNotes: {
      ...UNUSED_CONTACT_NOTES,
      findStoredNotes: (_co, ids) =>
        Promise.resolve(new Map(ids.flatMap((id) => (cdp.has(id) ? [[id, cdp.get(id)!]] : [])))),
      listLegacyIdsAfter: (_co, after, limit) =>
        Promise.resolve(
          [...cdp.keys()]
            .sort()
            .filter((id) => after === null || id > after)
            .slice(0, limit),
        ),
      createNotesBatch: (notes) => {
        for (const n of notes) cdp.set(n.legacy_crm_note_id, storedOf(n));
        return Promise.resolve({
          migrated: notes.length,
          skipped: 0,
          failed: [],
          writtenIds: notes.map((n) => n.legacy_crm_note_id),
        });
      },
      replaceUnchanged: (list, runId) => {
        for (const { stored, next } of list) {
          if (cdp.get(stored.legacy_crm_note_id!) !== stored) continue;
          cdp.set(next.legacy_crm_note_id, {
            ...storedOf(next),
            _id: stored._id,
            legacy_replaced_fingerprint: stored.legacy_fingerprint,
            legacy_migration_run_id: runId,
          });
        }
        return Promise.resolve(
          new Set(
            list
              .map((r) => r.stored.legacy_crm_note_id!)
              .filter((id) => cdp.get(id)?.legacy_migration_run_id === runId),
          ),
        );
      },
      countLegacyNotes: () => Promise.resolve(cdp.size),
    },
    scratch: {
      ...UNUSED_SCRATCH,
      markSeen: (_r, _p, ids) => {
        for (const id of ids) seen.add(id);
        return Promise.resolve();
      },
      findSeen: (_r, ids) => Promise.resolve(new Set(ids.filter((id) => seen.has(id)))),
      clear: () => Promise.resolve(seen.clear()),
    },
    failures: {
      recordMany: (f) => {
        failures.push(...f);
        return Promise.resolve(f.length);
      },
    },
    extractor: {
      listPersonNotes: () => Promise.reject(new Error('pages come from the test')),
      probeOrganization: () => Promise.resolve({ total: 0 }),
    },
    attachmentNoteConcurrency: 2,
    config: { noteTypeAllowlist: [1], maxFailureRate: 0.5, maxWarningRate: 0.5, matchPctThreshold: 0.99 },
    logger: createSilentLogger(),
    now: () => new Date('2026-01-01T00:00:00.000Z'),
  };

  /** What the first migration wrote for `note` (as another run). */
  const migrated = (note: CrmNote) => {
    const written = migratedNoteOf(COMPANY, 'migrate-run', {
      crm: note,
      contactId: `contact-${note.crmPersonId ?? ''}`,
      owner: {
        mapped: false,
        ownerId: null,
        legacyOwnerLabel: note.creatorName ?? '[Legacy CRM User]',
        details: {},
      },
      html: note.note,
      hasVisibleText: true,
      attachments: note.attachments.map((a) => ({
        type: 'pdf' as const,
        url: `https://cdp/${note.id}/${a.fileName}`,
        file_name: a.fileName ?? 'f',
        file_size_in_byte: 1,
      })),
    });
    cdp.set(note.id, storedOf(written));
  };

  async function page(
    kind: RunKindModule,
    position: { page: number; cursor: string | null },
    items: unknown[],
  ): Promise<PageOutcome> {
    const ctx = stepContext(run, createSilentLogger());
    const step = await kind.begin(deps, ctx);
    const plan = await step.prepare(
      { position, items, total: items.length, totalPages: 1, next: null },
      { replay: false },
      ctx.signal,
    );
    return step.commit(plan);
  }

  return {
    run,
    deps,
    cdp,
    seen,
    failures,
    uploads,
    migrated,
    crmPage: (kind: RunKindModule, notes: readonly CrmNoteResult[], pageNumber = 1) =>
      page(
        kind,
        { page: pageNumber, cursor: null },
        notes.map((crm) => ({ crm })),
      ),
    orphanPage: (kind: RunKindModule, ids: string[]) =>
      page(
        kind,
        { page: 2, cursor: 'cdp:' },
        ids.map((cdpLegacyId) => ({ cdpLegacyId })),
      ),
    ok,
  };
}
