/**
 * A CRM note without a readable id (issue #11, docs/crm.md §2): the failure log names it by its
 * place, `invalid:page-<page>:index-<position>`, end to end — CRM over HTTP, the real client and
 * parser, a run, the failures API in JSON and CSV.
 */
import { describe, expect, it } from 'vitest';

import { createHttpCrmNotesExtractor } from '../../../src/crm/http-crm-notes-extractor.js';
import { createSilentLogger } from '../../../src/logger.js';
import { executeRun } from '../../../src/migration/execute-run.js';
import { makeCrmNotePayload, makeEnvelope } from '../../fixtures/crm-notes.js';
import { call, startApi } from '../../helpers/api-server.js';
import { startFileServer } from '../../helpers/file-server.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);

describe('an invalid CRM note without a readable id', () => {
  it('is stored as legacy_crm_note_id "invalid:page-1:index-3" and served so by the failures API', async () => {
    const cid = '9301';
    const companySsoId = `co-${cid}`;
    const valid = [101, 102, 103].map((id) =>
      makeCrmNotePayload({ id, crm_person_id: id, crm_note_images: [] }),
    );
    // Fourth on page 1 (position 3): no id at all; fifth: an id that is not a positive integer.
    const data = [...valid, makeCrmNotePayload({ id: undefined }), makeCrmNotePayload({ id: 'abc' })];
    const crm = await startFileServer({
      routes: {
        [`/v1/organizations/${cid}/person_notes`]: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(makeEnvelope(data)));
        },
      },
    });
    await t.collections.contacts.insertMany(
      [101, 102, 103].map((id) => ({
        _id: `c-${id}`,
        company_sso_id: companySsoId,
        crm_data: { id: String(id) },
      })),
    );
    const extractor = createHttpCrmNotesExtractor({
      rootUrl: crm.url(''),
      auth: undefined,
      timeoutMs: 5_000,
      maxRetryAfterMs: 0,
      logger: createSilentLogger(),
    });
    const h = createRunHarness({ repos: t.repos, extractor, pageSize: 500, maxFailureRate: 1 });
    await h.enableFlag(cid);
    const { runId } = await h.trigger({ cid, companySsoId });
    await executeRun(h.deps('w-invalid-id'), runId);
    await crm.close();

    const failures = await t.collections.failures
      .find({ run_id: runId, reason_code: 'CRM_PAYLOAD_INVALID' })
      .sort({ legacy_crm_note_id: 1 })
      .toArray();
    expect(failures.map((f) => [f.legacy_crm_note_id, f.reason_code, f.details.crm_id_readable])).toEqual([
      ['invalid:page-1:index-3', 'CRM_PAYLOAD_INVALID', false],
      ['invalid:page-1:index-4', 'CRM_PAYLOAD_INVALID', false],
    ]);

    const api = await startApi(t);
    const json = await call(
      api,
      'GET',
      `/private/notes/migration/failures?cid=${cid}&run_id=${runId}&reason_code=CRM_PAYLOAD_INVALID`,
    );
    expect(json.json.items.map((i: { legacy_crm_note_id: string }) => i.legacy_crm_note_id).sort()).toEqual([
      'invalid:page-1:index-3',
      'invalid:page-1:index-4',
    ]);
    const csv = await call(
      api,
      'GET',
      `/private/notes/migration/failures?cid=${cid}&run_id=${runId}&format=csv`,
    );
    expect(csv.text).toContain(',invalid:page-1:index-3,CRM_PAYLOAD_INVALID,');
    await api.close();
  });
});
