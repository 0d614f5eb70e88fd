import { describe, expect, it } from 'vitest';

import type { CrmNoteResult } from '../../../../src/crm/crm-note.js';
import type { RunDoc } from '../../../../src/db/documents.js';
import type { NewFailure } from '../../../../src/db/failures-repository.js';
import { createSilentLogger } from '../../../../src/logger.js';
import { dryRunKind } from '../../../../src/migration/kinds/dry-run.js';
import type { AttachmentRehoster } from '../../../../src/migration/pipeline-ports.js';
import { addPage } from '../../../../src/migration/run-counters.js';
import type { PageOutcome, PageStep, RunKindDeps } from '../../../../src/migration/run-step.js';
import { createContactResolver } from '../../../../src/resolve/contact-resolver.js';
import { createOwnerResolver } from '../../../../src/resolve/owner-resolver.js';
import { makeCrmNote, makeRun, ok } from '../../../fixtures/builders.js';
import { stepContext, UNUSED_PROVENANCE_QUERIES, UNUSED_UNDO_DEPS } from '../../../fixtures/kind-deps.js';

const refuse = (what: string) => () => Promise.reject(new Error(`a dry run must not ${what}`));

/** A rehoster that says which stage it is and keeps every attachment (or blocks the named host). */
function stage(name: string, calls: string[], blockHost?: string): AttachmentRehoster {
  return {
    process: (_co, noteId, inputs) => {
      calls.push(`${name}:${noteId}`);
      const blocked = inputs.filter((i) => blockHost && new URL(i.url).hostname === blockHost);
      return Promise.resolve({
        attachments: inputs
          .filter((i) => !blocked.includes(i))
          .map((i) => ({
            type: 'image' as const,
            url: `https://cdp/${noteId}`,
            file_name: i.fileName ?? 'x',
            file_size_in_byte: 10,
          })),
        problems: blocked.map((i) => ({
          reasonCode: 'ATTACHMENT_SSRF_BLOCKED' as const,
          url: i.url,
          fileName: i.fileName,
          message: 'blocked URL: host-not-allowed',
        })),
      });
    },
  };
}

function harness(
  options: { companyHasNotes?: boolean; existing?: string[]; blockHost?: string; crmTotal?: number } = {},
) {
  const failures: NewFailure[] = [];
  const calls: string[] = [];
  const deps: RunKindDeps = {
    contacts: createContactResolver({
      contacts: {
        findContactIdsByCrmPersonIds: (_co, ids) =>
          Promise.resolve(new Map(ids.filter((id) => id !== '999').map((id) => [id, `contact-${id}`]))),
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
                    name: 'A',
                    email: 'a@x',
                    crm_user_id: '7',
                  },
                ]
              : [],
          ),
        findByEmails: (_co, emails) =>
          Promise.resolve(
            emails.includes('bob@example.com')
              ? [{ _id: 'u8', sso_id: 'sso-8', company_sso_id: 'c', name: 'B', email: 'bob@example.com' }]
              : [],
          ),
      },
    }),
    normalizeHtml: (html) => ({ ok: true, html, hasVisibleText: true }),
    attachments: { process: refuse('upload attachments') },
    ...UNUSED_UNDO_DEPS,
    vetAttachments: {
      urls: stage('urls', calls, options.blockHost),
      downloads: stage('downloads', calls, options.blockHost),
    },
    contactNotes: {
      ...UNUSED_PROVENANCE_QUERIES,
      createNotesBatch: refuse('write notes'),
      countInsertedByRun: refuse('count its inserts'),
      findExistingIds: (_co, ids) =>
        Promise.resolve(new Set(ids.filter((id) => options.existing?.includes(id)))),
      hasLegacyNotes: () => Promise.resolve(options.companyHasNotes ?? false),
      countLegacyNotes: () => Promise.resolve(options.existing?.length ?? 0),
      listForContact: refuse('list notes'),
    },
    extractor: {
      listPersonNotes: refuse('fetch outside its source'),
      probeOrganization: () => Promise.resolve({ total: options.crmTotal ?? 4 }),
    },
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
  return { deps, failures, calls };
}

const RUN = makeRun({ _id: 'dry-1', kind: 'dry_run', cid: '100', company_sso_id: 'company-1' });

async function begin(deps: RunKindDeps, run: RunDoc = RUN) {
  const signal = new AbortController().signal;
  return (await dryRunKind.begin(deps, stepContext(run, deps.logger, signal))) as PageStep<
    CrmNoteResult,
    unknown
  >;
}

async function page(
  step: PageStep<CrmNoteResult, unknown>,
  n: number,
  items: CrmNoteResult[],
  replay = false,
) {
  const signal = new AbortController().signal;
  const plan = await step.prepare(
    { position: { page: n, cursor: null }, items, total: 4, totalPages: 2, next: null },
    { replay },
    signal,
  );
  return step.commit(plan);
}

const withImage = (id: string, host = 'files.crm.example') =>
  ok(
    makeCrmNote({
      id,
      images: [
        { url: `https://${host}/${id}.png`, fileName: `${id}.png`, contentType: 'image/png', size: 10 },
      ],
    }),
  );

describe('dry_run kind (#13): one page through its step', () => {
  it('takes no flag, is allowed after a successful migration, never completes one, and hides its failures by default', () => {
    expect(dryRunKind.policy).toEqual({
      requiresFlag: false,
      refusedAfterSuccess: false,
      changesNotes: false,
      completesMigration: false,
      readsCrm: true,
      targetsRun: false,
      canBeRolledBack: false,
      failuresShownByDefault: false,
      acceptsOptions: ['verify_attachments'],
      resumable: true,
    });
  });

  it('counts what a migration would do, writes only its own failure records, and checkpoints the forecast', async () => {
    const h = harness();
    const step = await begin(h.deps);
    const out: PageOutcome = await page(step, 1, [
      withImage('1'),
      ok(makeCrmNote({ id: '2', creatorId: '99', creatorEmail: 'bob@example.com' })),
      ok(makeCrmNote({ id: '3', creatorId: '99', creatorEmail: null, creatorName: 'Gone' })),
      ok(makeCrmNote({ id: '4', crmPersonId: '999' })),
      ok(makeCrmNote({ id: '5', crmNoteTypeId: 3 })),
    ]);
    expect(out).toMatchObject({
      seen: 5,
      migrated: 3,
      skipped: 0,
      failed: 1,
      outOfScope: 1,
      withWarnings: 1,
      unaccountedIds: [],
    });
    expect(h.failures.map((f) => [f.legacyCrmNoteId, f.reasonCode, f.kind])).toEqual([
      ['4', 'CONTACT_NOT_MAPPED', 'dry_run'],
      ['3', 'OWNER_NOT_MAPPED', 'dry_run'],
    ]);
    expect(h.calls).toEqual(['urls:1']);
    expect(out.runFields).toMatchObject({
      problem_tally: { by_reason: { CONTACT_NOT_MAPPED: 1, OWNER_NOT_MAPPED: 1 } },
      forecast: {
        verify_attachments: false,
        pages: 1,
        owners: { by_crm_user_id: 1, by_email: 1, unmapped: 1 },
        attachments: { declared: 1, would_store: 1, would_store_bytes: 10, blocked: 0 },
        persons_seen: { ids: ['42', '999'] },
        persons_found: { ids: ['42'] },
        // 1 failed of 4 in scope is 25 %: a real run would halt here.
        would_halt: { page: 1, trigger: 'failure_rate', at_halt: { notes_migrated: 3, notes_failed: 1 } },
      },
    });
    expect(step.haltAfter(addPage(RUN, out, 5), 1)).toBeNull();
  });

  it('downloads and checks attachments only with verify_attachments, never through the uploading re-hoster', async () => {
    const h = harness();
    const step = await begin(h.deps, { ...RUN, options: { verify_attachments: true } });
    await page(step, 1, [withImage('1')]);
    expect(h.calls).toEqual(['downloads:1']);
  });

  it('skips what a real run would skip: notes already in CDP, even on a page replayed after a takeover', async () => {
    const h = harness({ companyHasNotes: true, existing: ['1', '2'] });
    const step = await begin(h.deps);
    const out = await page(
      step,
      1,
      [withImage('1'), ok(makeCrmNote({ id: '2' })), ok(makeCrmNote({ id: '3' }))],
      true,
    );
    expect(out).toMatchObject({ migrated: 1, skipped: 2, failed: 0 });
    expect(h.calls).toEqual([]);
  });

  it('records where a real run would halt once, with its counters then, and reads to the end', async () => {
    const h = harness({ blockHost: 'cdn.example' });
    const step = await begin(h.deps);
    const blocked = Array.from({ length: 6 }, (_, i) => withImage(String(i + 1), 'cdn.example'));
    const first = await page(step, 1, blocked);
    const halt = (first.runFields?.forecast as RunDoc['forecast'])?.would_halt;
    expect(halt).toMatchObject({
      page: 1,
      trigger: 'systemic',
      diagnosis: { reason_code: 'ATTACHMENT_SSRF_BLOCKED', systemic: true },
    });
    expect(halt?.reason).toContain('cdn.example (6)');
    const second = await page(step, 2, [ok(makeCrmNote({ id: '20', crmPersonId: '999' }))]);
    expect((second.runFields?.forecast as RunDoc['forecast'])?.would_halt).toEqual(halt);
    const counters = addPage(addPage(RUN, first, 7), second, 7);
    const end = await step.finish(counters, []);
    expect(end).toMatchObject({
      status: 'completed_with_errors', // 7 notes total, CRM says 4: the closure does not balance
      matchPct: null,
      runFields: {
        forecast: {
          outcome: { status: 'halted', halt_page: 1, match_pct: null },
          estimated_duration: { write_ms_per_note: 1.9 },
        },
      },
    });
  });

  it('continues a resumed run’s forecast and problems from the checkpoint', async () => {
    const h = harness({ crmTotal: 2 });
    const step = await begin(h.deps);
    const first = await page(step, 1, [ok(makeCrmNote({ id: '1' }))]);
    const resumed: RunDoc = {
      ...RUN,
      ...addPage(RUN, first, 2),
      checkpoint: { page: 1, total_pages: 2, cursor: null },
      ...(first.runFields as Partial<RunDoc>),
    };
    const again = await begin(h.deps, resumed);
    const second = await page(again, 2, [ok(makeCrmNote({ id: '2', crmPersonId: '43' }))]);
    expect(second.runFields).toMatchObject({
      forecast: { pages: 2, persons_seen: { ids: ['42', '43'] }, owners: { by_crm_user_id: 2 } },
    });
    const end = await again.finish(addPage(resumed, second, 2), []);
    expect(end.runFields).toMatchObject({
      forecast: { outcome: { status: 'completed_success', match_pct: 1 } },
    });
    expect(end.status).toBe('completed_success');
    expect(
      dryRunKind.resumeFieldsOf?.({ ...resumed, ...(second.runFields as Partial<RunDoc>) }),
    ).toMatchObject({
      forecast: { pages: 2, outcome: null },
      problem_tally: { by_reason: {} },
    });
  });
});
