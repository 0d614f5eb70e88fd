import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../../src/config.js';
import type { ContactNoteDoc } from '../../../src/db/documents.js';
import { MIGRATION_FLAG } from '../../../src/domain.js';
import { executeRun } from '../../../src/migration/execute-run.js';
import { isUntouched, provenanceOf } from '../../../src/migration/note-fingerprint.js';
import { createRunConfigStamp } from '../../../src/migration/run-config-stamp.js';
import { makeCrmNote, makeMigratedNote } from '../../fixtures/builders.js';
import { API_USER, call, startApi } from '../../helpers/api-server.js';
import { createMemoryCrm } from '../../helpers/memory-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const PROVENANCE_INDEX = 'ix_contact_notes_company_migration_run';

async function tenantOf(cid: string, count: number) {
  const companySsoId = `co-${cid}`;
  const notes = Array.from({ length: count }, (_, i) =>
    makeCrmNote({
      id: String(i + 1),
      crmPersonId: `${cid}-p${i}`,
      creatorId: i % 2 ? '7' : '99',
      creatorEmail: i % 2 ? 'alice@example.com' : null,
    }),
  );
  await t.collections.contacts.insertMany(
    notes.map((n) => ({
      _id: `${n.crmPersonId}-c`,
      company_sso_id: companySsoId,
      crm_data: { id: n.crmPersonId! },
    })),
  );
  await t.collections.users.insertOne({
    _id: `${cid}-u7`,
    sso_id: `${cid}-sso-7`,
    company_sso_id: companySsoId,
    name: 'Alice',
    email: 'alice@example.com',
    crm_user_id: '7',
  });
  const h = createRunHarness({ repos: t.repos, extractor: createMemoryCrm(notes), pageSize: 4 });
  await h.enableFlag(cid);
  return { companySsoId, h };
}

function humanNote(companySsoId: string): ContactNoteDoc {
  return {
    _id: new ObjectId(),
    company_sso_id: companySsoId,
    contact_id: 'human-contact',
    owner_id: 'sso-1',
    note: '<p>written in CDP by a person</p>',
    attachments: [],
    is_deleted: false,
    created_at: new Date('2026-11-30T10:00:00.000Z'),
    updated_at: new Date('2026-11-30T10:00:00.000Z'),
  };
}

describe('provenance on migrated notes (#12, DESIGN.md §11.2)', () => {
  it('stamps every inserted note with its run id and a fingerprint it still matches; a human note is left as it was', async () => {
    const { companySsoId, h } = await tenantOf('7101', 10);
    const human = humanNote(companySsoId);
    await t.collections.contactNotes.insertOne(human);

    const { runId } = await h.trigger({ cid: '7101' });
    expect(await h.execute(runId)).toEqual({ kind: 'finished', status: 'completed_success' });

    const migrated = await t.collections.contactNotes
      .find({ company_sso_id: companySsoId, legacy_crm_note_id: { $exists: true } })
      .toArray();
    expect(migrated).toHaveLength(10);
    for (const doc of migrated) {
      expect(doc.legacy_migration_run_id).toBe(runId);
      expect(doc.legacy_migration_page).toBeGreaterThanOrEqual(1);
      expect(doc.legacy_fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(isUntouched(doc)).toBe(true);
    }
    // Notes with an unmapped owner carry the label, and it is part of what was fingerprinted.
    expect(migrated.filter((d) => d.legacy_owner_label !== undefined)).toHaveLength(5);
    expect(await t.collections.contactNotes.findOne({ _id: human._id })).toEqual(human);

    // A person edits a migrated note in CDP: it is no longer untouched.
    const edited = migrated[0]!;
    await t.collections.contactNotes.updateOne(
      { _id: edited._id },
      { $set: { note: '<p>edited</p>', updated_at: new Date() } },
    );
    expect(provenanceOf((await t.collections.contactNotes.findOne({ _id: edited._id }))!)).toBe('touched');
    expect(provenanceOf(human)).toBe('unknown');
  });

  it('finds a run’s notes through the partial provenance index, which holds no human note', async () => {
    const { companySsoId, h } = await tenantOf('7102', 6);
    await t.collections.contactNotes.insertMany([humanNote(companySsoId), humanNote(companySsoId)]);
    const { runId } = await h.trigger({ cid: '7102' });
    await h.execute(runId);

    const byRun = t.collections.contactNotes.find({
      company_sso_id: companySsoId,
      legacy_migration_run_id: runId,
    });
    expect(await byRun.toArray()).toHaveLength(6);
    const plan = JSON.stringify(
      await t.collections.contactNotes
        .find({ company_sso_id: companySsoId, legacy_migration_run_id: runId })
        .explain('queryPlanner'),
    );
    expect(plan).toContain(PROVENANCE_INDEX);
    // Everything the index holds for the company: the 6 migrated notes, neither human note.
    const indexed = await t.collections.contactNotes
      .find({ company_sso_id: companySsoId })
      .hint(PROVENANCE_INDEX)
      .toArray();
    expect(indexed.map((d) => d.legacy_migration_run_id)).toEqual(Array(6).fill(runId));
  });
});

describe('a page’s own notes, by run and page', () => {
  it('are found again when the page is written twice; a note the run wrote from another page is not', async () => {
    const notes = t.repos.contactNotes;
    const note = (id: string, page: number) => ({
      ...makeMigratedNote({ company_sso_id: 'co-7104', legacy_crm_note_id: id }),
      legacy_migration_run_id: 'run-7104',
      legacy_migration_page: page,
    });
    expect(await notes.createNotesBatch([note('a', 3), note('b', 3)])).toMatchObject({ migrated: 2 });
    // The same page written again (a retried or replayed write), plus a CRM duplicate of a note
    // the run wrote from page 2.
    await notes.createNotesBatch([note('dup', 2)]);
    const again = await notes.createNotesBatch([note('a', 3), note('b', 3), note('dup', 3)]);
    expect(again).toMatchObject({ migrated: 0, skipped: 3 });
    expect(await notes.countInsertedByRun('co-7104', again.writtenIds, 'run-7104', 3)).toBe(2);
    expect(await notes.countInsertedByRun('co-7104', again.writtenIds, 'run-7104', 2)).toBe(1);
    expect(await notes.countInsertedByRun('co-7104', again.writtenIds, 'other-run', 3)).toBe(0);
  });
});

describe('audit stamp on every run (#12, DESIGN.md §11.9)', () => {
  it('records who triggered a run over HTTP and the config it ran with; runs and status show both', async () => {
    const cid = '7103';
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
    const api = await startApi(t);
    const body = { cid, company_sso_id: `co-${cid}` };
    const first = await call(api, 'POST', '/private/notes/migrate', { body });
    expect(first.status).toBe(200);
    await call(api, 'POST', '/private/notes/migration/cancel', { body: { cid } });
    const second = await call(api, 'POST', '/private/notes/migrate', {
      body: { ...body, kind: 'migrate' },
      headers: { 'x-triggered-via': 'cli' },
    });
    expect(second.status).toBe(200);

    const runs = await call(api, 'GET', `/private/notes/migration/runs?cid=${cid}`);
    expect(runs.json.runs.map((r: { triggered_by: string }) => r.triggered_by)).toEqual([
      `${API_USER} (cli)`,
      API_USER,
    ]);
    for (const r of runs.json.runs) {
      expect(r).toMatchObject({ kind: 'migrate', config: { page_size: 3, note_type_allowlist: [1, 6] } });
    }
    const status = await call(api, 'GET', `/private/notes/migration/status?cid=${cid}`);
    expect(status.json).toMatchObject({
      run_id: second.json.run_id,
      kind: 'migrate',
      triggered_by: `${API_USER} (cli)`,
    });
    const stored = await t.repos.runs.get(second.json.run_id);
    expect(stored).toMatchObject({ kind: 'migrate', triggered_by: `${API_USER} (cli)` });
    await api.close();
  });

  it('refuses an unknown kind and a hostile via-label changes nothing but the label', async () => {
    const cid = '7104';
    await t.repos.featureFlags.setFlag(cid, MIGRATION_FLAG, true, new Date());
    const api = await startApi(t);
    const body = { cid, company_sso_id: `co-${cid}` };
    for (const kind of ['rm -rf', 'MIGRATE', 7, null, { $ne: 1 }]) {
      const res = await call(api, 'POST', '/private/notes/migrate', { body: { ...body, kind } });
      expect(res).toMatchObject({ status: 400, json: { error: 'VALIDATION_ERROR' } });
      expect(res.json.message).toContain('kind must be one of migrate');
    }
    expect(await t.repos.runs.latestForCid(cid)).toBeNull();
    const res = await call(api, 'POST', '/private/notes/migrate', {
      body,
      headers: { 'x-triggered-via': '<script>alert(1)</script>' },
    });
    expect(res.status).toBe(200);
    expect((await t.repos.runs.get(res.json.run_id))?.triggered_by).toBe(API_USER);
    await api.close();
  });

  it('lets the claiming worker stamp its own config on the run (the one that decides what it writes)', async () => {
    const { h } = await tenantOf('7105', 2);
    const { runId } = await h.trigger({ cid: '7105' });
    const triggered = (await t.repos.runs.get(runId))?.config;
    const workerStamp = createRunConfigStamp(
      parseConfig({ CRM_PAGE_SIZE: '4', ATTACHMENT_HOSTS: 'files.crm.example', MAX_FAILURE_RATE: '0.05' }),
      '9.9.9',
    );
    expect(workerStamp).not.toEqual(triggered);
    await executeRun({ ...h.deps('worker-b'), configStamp: workerStamp }, runId);
    expect((await t.repos.runs.get(runId))?.config).toEqual(workerStamp);
    expect(workerStamp).toMatchObject({
      service_version: '9.9.9',
      attachment_hosts: ['files.crm.example'],
      max_failure_rate: 0.05,
      sanitizer_policy_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(workerStamp.sanitizer_policy_sha256).toBe(
      createRunConfigStamp(parseConfig({}), 'x').sanitizer_policy_sha256,
    );
  });
});
