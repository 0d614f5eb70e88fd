import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';

import type { StoredNoteDoc } from '../../../../src/db/contact-notes-provenance.js';
import type { RollbackIntentsDoc, RunDoc } from '../../../../src/db/documents.js';
import type { NewFailure } from '../../../../src/db/failures-repository.js';
import { createSilentLogger } from '../../../../src/logger.js';
import { rollbackKind } from '../../../../src/migration/kinds/rollback.js';
import { fingerprintOf } from '../../../../src/migration/note-fingerprint.js';
import type { RunKindDeps } from '../../../../src/migration/run-step.js';
import { makeRun } from '../../../fixtures/builders.js';
import { UNUSED_CONTACT_NOTES, UNUSED_UNDO_DEPS } from '../../../fixtures/kind-deps.js';

const TARGET = makeRun({ _id: 'r-target', cid: '5', company_sso_id: 'co', status: 'completed_success' });
const RUN = makeRun({
  _id: 'rb-1',
  cid: '5',
  company_sso_id: 'co',
  kind: 'rollback',
  target_run_id: 'r-target',
  page_size: 3,
});

function note(n: number, edited = false): StoredNoteDoc {
  const fields = {
    note: `<p>${n}</p>`,
    contact_id: 'c',
    owner_id: 'o',
    attachments: [
      {
        type: 'pdf' as const,
        url: `https://cdp/att/co/${n}/f-0123456789ab.pdf`,
        file_name: 'f.pdf',
        file_size_in_byte: 1,
      },
    ],
    created_at: new Date('2020-01-01T00:00:00.000Z'),
    updated_at: new Date('2020-01-01T00:00:00.000Z'),
  };
  return {
    _id: new ObjectId(n.toString(16).padStart(24, '0')),
    legacy_crm_note_id: String(n),
    legacy_migration_run_id: 'r-target',
    legacy_fingerprint: fingerprintOf(fields),
    ...fields,
    ...(edited ? { note: '<p>edited</p>' } : {}),
  };
}

/**
 * A CDP of `notes`; `editDuringDelete` notes are changed by a person right before the delete
 * lands; `run` may carry the intents a dead worker left, `earlier` the CID's other runs.
 */
function harness(
  notes: StoredNoteDoc[],
  options: { editDuringDelete?: number[]; run?: Partial<RunDoc>; earlier?: RunDoc[] } = {},
) {
  const cdp = new Map(notes.map((n) => [n._id.toHexString(), n]));
  const calls: string[] = [];
  const failures: NewFailure[] = [];
  const deletedKeys: string[] = [];
  const written: Record<string, unknown>[] = [];
  const deps: RunKindDeps = {
    ...UNUSED_UNDO_DEPS,
    runs: {
      get: (id) => Promise.resolve(id === TARGET._id ? TARGET : null),
      markRolledBack: (id, by) => {
        calls.push(`markRolledBack ${id} ${by}`);
        return Promise.resolve();
      },
      listForCid: () => Promise.resolve([...(options.earlier ?? [])]),
    },
    contactNotes: {
      ...UNUSED_CONTACT_NOTES,
      countRunNotes: () => Promise.resolve(cdp.size),
      listRunNotes: (_co, _run, after, limit) =>
        Promise.resolve(
          [...cdp.values()]
            .filter((n) => !after || n._id.toHexString() > after.toHexString())
            .sort((a, b) => a._id.toHexString().localeCompare(b._id.toHexString()))
            .slice(0, limit),
        ),
      deleteUnchanged: (list) => {
        calls.push(`delete ${list.length}`);
        let n = 0;
        for (const d of list) {
          if (options.editDuringDelete?.includes(Number(d.legacy_crm_note_id))) continue;
          if (cdp.delete(d._id.toHexString())) n++;
        }
        return Promise.resolve(n);
      },
      findPresentIds: (ids) =>
        Promise.resolve(new Set(ids.map((i) => i.toHexString()).filter((h) => cdp.has(h)))),
    },
    attachmentObjects: {
      deleteObjects: (keys) => {
        calls.push(`objects ${keys.length}`);
        deletedKeys.push(...keys);
        return Promise.resolve();
      },
    },
    failures: {
      recordMany: (f) => {
        failures.push(...f);
        return Promise.resolve(f.length);
      },
    },
    extractor: {
      listPersonNotes: () => Promise.reject(new Error('a rollback never reads CRM')),
      probeOrganization: () => Promise.reject(new Error('no')),
    },
    contacts: { resolve: () => Promise.reject(new Error('unused')) },
    owners: { resolve: () => Promise.reject(new Error('unused')) },
    normalizeHtml: () => {
      throw new Error('unused');
    },
    attachments: { process: () => Promise.reject(new Error('unused')) },
    vetAttachments: {
      urls: { process: () => Promise.reject(new Error('unused')) },
      downloads: { process: () => Promise.reject(new Error('unused')) },
    },
    attachmentNoteConcurrency: 1,
    config: { noteTypeAllowlist: [1], maxFailureRate: 0.01, maxWarningRate: 0.5, matchPctThreshold: 0.99 },
    logger: createSilentLogger(),
    now: () => new Date('2026-01-01T00:00:00.000Z'),
  };
  const ctx = {
    run: { ...RUN, ...options.run },
    log: createSilentLogger(),
    signal: new AbortController().signal,
    confirmLease: () => {
      calls.push('confirmLease');
      return Promise.resolve();
    },
    writeAhead: (fields: Readonly<Record<string, unknown>>) => {
      const intents = fields.rollback_intents as RollbackIntentsDoc;
      calls.push(`writeAhead ${intents.notes.length}`);
      written.push(fields);
      return Promise.resolve();
    },
  };
  return { deps, ctx, cdp, calls, failures, deletedKeys, written };
}

async function onePage(h: ReturnType<typeof harness>, cursor: string | null = null) {
  const step = await rollbackKind.begin(h.deps, h.ctx);
  const page = await step.source.fetch({ page: 1, cursor }, h.ctx.signal);
  const outcome = await step.commit(await step.prepare(page, { replay: false }, h.ctx.signal));
  return { step, page, outcome };
}

describe('rollback kind: one page through the step', () => {
  it('writes its intents ahead (fenced), deletes the untouched notes, then only their objects; keeps the edited one', async () => {
    const h = harness([note(1), note(2, true), note(3)]);
    const { page, outcome } = await onePage(h);
    expect(page.next).toEqual({ page: 2, cursor: note(3)._id.toHexString() });
    expect(h.calls).toEqual(['writeAhead 2', 'delete 2', 'objects 2']);
    expect(h.written).toEqual([
      {
        rollback_intents: {
          page: 1,
          notes: [1, 3].map((n) => ({
            note_id: note(n)._id.toHexString(),
            object_keys: [`co/${n}/f-0123456789ab.pdf`],
          })),
        },
      },
    ]);
    expect(h.deletedKeys).toEqual(['co/1/f-0123456789ab.pdf', 'co/3/f-0123456789ab.pdf']);
    expect([...h.cdp.values()].map((n) => n.legacy_crm_note_id)).toEqual(['2']);
    expect(outcome).toMatchObject({
      seen: 3,
      skipped: 1,
      migrated: 0,
      failed: 0,
      runFields: { rollback: { notes_deleted: 2, notes_kept: 1, objects_deleted: 2 } },
    });
    expect(h.failures).toMatchObject([
      {
        legacyCrmNoteId: '2',
        reasonCode: 'ROLLBACK_KEPT_EDITED',
        kind: 'rollback',
        details: { edited: 'before_rollback' },
      },
    ]);
  });

  it('keeps a note whose edit lands between read and delete, and leaves its objects', async () => {
    const h = harness([note(1), note(2)], { editDuringDelete: [2] });
    const { outcome } = await onePage(h);
    expect(h.deletedKeys).toEqual(['co/1/f-0123456789ab.pdf']);
    expect(outcome.runFields).toEqual({ rollback: { notes_deleted: 1, notes_kept: 1, objects_deleted: 1 } });
    expect(h.failures[0]).toMatchObject({
      legacyCrmNoteId: '2',
      details: { edited: 'during_rollback', provenance: 'touched' },
    });
  });

  it('ends with an empty page whose next is null, and marks the target rolled back at the end', async () => {
    const h = harness([]);
    const { step, page } = await onePage(h, note(9)._id.toHexString());
    expect(page).toMatchObject({ items: [], next: null, total: 0 });
    await expect(step.finish(RUN, [])).resolves.toMatchObject({
      status: 'completed_success',
      runFields: { rollback_intents: null },
    });
    expect(h.calls).toContain('markRolledBack r-target rb-1');
  });

  it('after a takeover counts what the dead worker deleted past its checkpoint and deletes those objects', async () => {
    const intent = (n: number) => ({ note_id: note(n)._id.toHexString(), object_keys: [`co/${n}/a`] });
    // Page 1 was not checkpointed; note 3 is still there: the replayed page deletes and counts it.
    const h = harness([note(3)], { run: { rollback_intents: { page: 1, notes: [1, 2, 3].map(intent) } } });
    const { outcome } = await onePage(h);
    expect(h.deletedKeys.slice(0, 2)).toEqual(['co/1/a', 'co/2/a']);
    expect(outcome.runFields).toEqual({ rollback: { notes_deleted: 3, notes_kept: 0, objects_deleted: 3 } });
    // Notes 1 and 2 are gone, so no page sees them: the first page counts them as seen.
    expect(outcome.seen).toBe(3);
  });

  it('does not count intents its checkpoint already holds, nor those of an earlier failed rollback, but finishes their objects', async () => {
    const intent = (n: number) => ({ note_id: note(n)._id.toHexString(), object_keys: [`co/${n}/a`] });
    const failed = makeRun({
      _id: 'rb-0',
      cid: '5',
      kind: 'rollback',
      target_run_id: 'r-target',
      status: 'failed',
      rollback_intents: { page: 4, notes: [intent(8)] },
    });
    const h = harness([], {
      run: {
        checkpoint: { page: 2, total_pages: null, cursor: note(7)._id.toHexString() },
        rollback_intents: { page: 2, notes: [intent(7)] },
      },
      earlier: [failed],
    });
    const { outcome } = await onePage(h, note(7)._id.toHexString());
    expect(h.deletedKeys.sort()).toEqual(['co/7/a', 'co/8/a']);
    expect(outcome.runFields).toEqual({ rollback: { notes_deleted: 0, notes_kept: 0, objects_deleted: 0 } });
    expect(outcome.seen).toBe(0);
  });
});
