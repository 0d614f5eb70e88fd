/**
 * A small tenant whose every note maps (one contact per note, the creator has an SSO user) on a
 * memory CRM, with a run harness of 3-note pages: for tests of what watches a run (the status
 * stream, `status --watch`), not of what the run decides.
 */
import type { CrmNote } from '../../src/crm/crm-note.js';
import type { NormalizeHtml } from '../../src/migration/pipeline-ports.js';
import { makeCreatorUser, makeCrmNote } from '../fixtures/builders.js';
import { createMemoryCrm } from './memory-crm.js';
import { createRunHarness } from './run-harness.js';
import type { TestDb } from './test-db.js';

const passThrough: NormalizeHtml = (html) => ({ ok: true, html, hasVisibleText: true });

export async function createMappedTenant(t: TestDb, cid: string, count: number) {
  const notes: CrmNote[] = Array.from({ length: count }, (_, i) =>
    makeCrmNote({ id: String(i + 1), crmPersonId: String(9000 + i), creatorId: '7' }),
  );
  await t.collections.contacts.insertMany(
    notes.map((n, i) => ({
      _id: `${cid}-c${i}`,
      company_sso_id: `co-${cid}`,
      crm_data: { id: n.crmPersonId! },
    })),
  );
  // The notes' creator has an SSO user: without one every note is migrated with a warning and the
  // run halts on MAX_WARNING_RATE (#13).
  await t.collections.users.insertOne(makeCreatorUser(`co-${cid}`));
  const crm = createMemoryCrm(notes);
  const h = createRunHarness({ repos: t.repos, extractor: crm, normalizeHtml: passThrough, pageSize: 3 });
  await h.enableFlag(cid);
  return { cid, crm, h };
}
