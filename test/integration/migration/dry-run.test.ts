/**
 * The dry run end to end (#13 acceptance): the fake CRM over HTTP, real attachment downloads, an
 * in-process S3 and the test database; runs triggered over the HTTP API and executed by the page
 * loop. The forecast must equal, figure for figure, what the real run right after it reports, and
 * the dry run must leave `contact_notes` and S3 exactly as they were.
 */
import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type AttachmentHandlers,
  createAttachmentHandlers,
} from '../../../src/attachments/attachment-processor.js';
import {
  createS3AttachmentStore,
  type S3AttachmentStore,
} from '../../../src/attachments/s3-attachment-store.js';
import { compareForecastWithRun } from '../../../src/cli/forecast-check.js';
import type { CrmNotesExtractor } from '../../../src/crm/crm-notes-extractor.js';
import { seedCdp } from '../../../src/crm/fake/cdp-seed.js';
import { FAKE_CRM_DEFAULT_AUTH, type FakeCrm } from '../../../src/crm/fake/fake-crm-server.js';
import { UNLISTED_ATTACHMENT_HOST } from '../../../src/crm/fake/fake-note-generator.js';
import { type FakeTenantOptions, resolveFakeTenant } from '../../../src/crm/fake/fake-tenant-options.js';
import type { FakeTenantPlan } from '../../../src/crm/fake/fake-tenant-plan.js';
import { createHttpCrmNotesExtractor } from '../../../src/crm/http-crm-notes-extractor.js';
import type { RunDoc } from '../../../src/db/documents.js';
import type { ReasonCode } from '../../../src/domain.js';
import { createSilentLogger } from '../../../src/logger.js';
import { forecastViewOf } from '../../../src/migration/forecast.js';
import { problemTallyOf } from '../../../src/migration/problem-tally.js';
import { makeAttachmentsConfig } from '../../fixtures/attachment-builders.js';
import { type ApiUnderTest, call, startApi } from '../../helpers/api-server.js';
import { startTestS3, type TestS3 } from '../../helpers/embedded-s3.js';
import { startTrackedFakeCrm } from '../../helpers/fake-crm.js';
import { createRunHarness } from '../../helpers/run-harness.js';
import { useTestDb } from '../../helpers/test-db.js';

const t = useTestDb(import.meta.url);
const logger = createSilentLogger();
const PAGE_SIZE = 500;
/** Small caps keep too-large files cheap: refused on their Content-Length, as 25 MiB ones are. */
const MAX_ATTACHMENT_BYTES = 512 * 1024;
const OVERSIZED = 600 * 1024;

const tenant = (
  cid: string,
  preset: FakeTenantOptions['preset'],
  noteCount: number,
  extra: Partial<FakeTenantOptions> = {},
) => ({
  cid,
  companySsoId: `co-${cid}`,
  noteCount,
  seed: Number(cid) % 97,
  preset,
  oversizedAttachmentBytes: OVERSIZED,
  ...extra,
});

const TENANTS = {
  realistic: tenant('8101', 'realistic', 2_000),
  messy: tenant('8102', 'messy', 1_500),
  clean: tenant('8103', 'clean', 1_000),
  mix: tenant('8104', 'realistic', 1_500, {
    mix: {
      outOfScopeShare: 0.2,
      ownerUnmappedNamedShare: 0.15,
      ownerByEmailShare: 0.3,
      checkinShare: 0.1,
      attachmentShare: 0.3,
      attachmentTypeMismatchShare: 0.1,
      attachmentMissingShare: 0.05,
      attachmentTooLargeShare: 0.03,
    },
  }),
  unverified: tenant('8105', 'realistic', 1_000, {
    mix: {
      attachmentShare: 0.3,
      attachmentTypeMismatchShare: 0.1,
      attachmentMissingShare: 0.05,
      attachmentTooLargeShare: 0.05,
    },
  }),
  contactsMissing: tenant('8111', 'contacts-missing', 600),
  attachmentsBlocked: tenant('8112', 'attachments-blocked', 600),
  payloadsBroken: tenant('8113', 'payloads-broken', 600),
  afterSuccess: tenant('8121', 'realistic', 600),
  locked: tenant('8122', 'clean', 300),
  concurrent: tenant('8123', 'clean', 100),
  noFlag: tenant('8124', 'clean', 100),
};

let crm: FakeCrm;
let s3: TestS3;
let store: S3AttachmentStore;
let api: ApiUnderTest;
let extractor: CrmNotesExtractor;
let handlers: AttachmentHandlers;
let h: ReturnType<typeof createRunHarness>;

beforeAll(async () => {
  crm = await startTrackedFakeCrm({ tenants: Object.values(TENANTS) }, 'file');
  s3 = await startTestS3();
  store = createS3AttachmentStore(s3.config);
  extractor = createHttpCrmNotesExtractor({
    rootUrl: crm.url,
    auth: FAKE_CRM_DEFAULT_AUTH,
    timeoutMs: 10_000,
    maxRetryAfterMs: 1_000,
    logger,
  });
  handlers = createAttachmentHandlers({
    config: makeAttachmentsConfig({
      allowedHosts: ['127.0.0.1'],
      allowHttp: true,
      allowedPorts: [crm.port],
      allowPrivateNetworks: true,
      maxBytes: MAX_ATTACHMENT_BYTES,
    }),
    store,
    logger,
  });
  h = createRunHarness({
    repos: t.repos,
    extractor,
    attachments: handlers.processor,
    vetAttachments: { urls: handlers.vetUrls, downloads: handlers.checkDownloads },
    pageSize: PAGE_SIZE,
  });
  api = await startApi(t, { extractor, pageSize: PAGE_SIZE, scope: 'file' });
  for (const tn of Object.values(TENANTS)) {
    await seedCdp(t.db, resolveFakeTenant(tn));
    if (tn !== TENANTS.noFlag) await h.enableFlag(tn.cid);
  }
});

afterAll(async () => {
  await api.close();
  store.close();
  await crm.stop();
  await s3.stop();
});

type Tenant = (typeof TENANTS)[keyof typeof TENANTS];

async function trigger(tn: Tenant, extra: Record<string, unknown> = {}) {
  return call(api, 'POST', '/private/notes/migrate', {
    body: { cid: tn.cid, company_sso_id: tn.companySsoId, ...extra },
  });
}

/** Triggers over HTTP and runs it to its end with the page loop; the run as stored. */
async function runToEnd(tn: Tenant, extra: Record<string, unknown> = {}): Promise<RunDoc> {
  const res = await trigger(tn, extra);
  expect(res.status, res.text).toBe(200);
  const exit = await h.execute(res.json.run_id as string);
  expect(exit.kind).toBe('finished');
  const run = await t.repos.runs.get(res.json.run_id as string);
  if (!run) throw new Error('run vanished');
  return run;
}

const dryRun = (tn: Tenant, verify = true) =>
  runToEnd(tn, { kind: 'dry_run', ...(verify ? { verify_attachments: true } : {}) });

/** What a dry run must not change: the company's notes, byte for byte, and every S3 object. */
async function snapshot(companySsoId: string) {
  const docs = await t.collections.contactNotes
    .find({ company_sso_id: companySsoId })
    .sort({ _id: 1 })
    .toArray();
  return {
    count: docs.length,
    sha256: createHash('sha256').update(JSON.stringify(docs)).digest('hex'),
    s3Keys: await s3.keys(),
  };
}

/** Every figure the acceptance names, read independently of `compareForecastWithRun`. */
async function expectForecastEqualsRun(dry: RunDoc, real: RunDoc) {
  const forecast = dry.forecast!;
  const halt = forecast.would_halt;
  const observedByReason = await t.repos.failures.countByReason(real._id);
  expect(real.status).toBe(forecast.outcome?.status);
  expect(real.match_pct).toBe(forecast.outcome?.match_pct);
  if (halt) {
    expect(real.checkpoint.page).toBe(halt.page);
    expect(real.halt_reason).toBe(halt.reason);
    expect(real.halt_diagnosis).toEqual(halt.diagnosis);
    expect(real).toMatchObject({
      notes_processed: halt.at_halt.notes_processed,
      notes_migrated: halt.at_halt.notes_migrated,
      notes_skipped: halt.at_halt.notes_skipped,
      notes_failed: halt.at_halt.notes_failed,
      notes_with_warnings: halt.at_halt.notes_with_warnings,
      out_of_scope_count: halt.at_halt.out_of_scope_count,
      failure_rate: halt.at_halt.failure_rate,
    });
    expect(observedByReason).toEqual(halt.at_halt.problems_by_reason);
  } else {
    expect(real).toMatchObject({
      notes_total: dry.notes_total,
      notes_processed: dry.notes_processed,
      notes_migrated: dry.notes_migrated,
      notes_skipped: dry.notes_skipped,
      notes_failed: dry.notes_failed,
      notes_with_warnings: dry.notes_with_warnings,
      out_of_scope_count: dry.out_of_scope_count,
      failure_rate: dry.failure_rate,
      notes_in_scope: forecast.outcome?.notes_in_scope,
    });
    expect(observedByReason).toEqual(problemTallyOf(dry).by_reason);
    expect(await t.repos.failures.countByReason(dry._id)).toEqual(observedByReason);
  }
  expect(compareForecastWithRun(dry, real, observedByReason).filter((c) => !c.ok)).toEqual([]);
}

/** The whole-tenant forecast against what the fake CRM planted. */
function expectForecastEqualsPlan(dry: RunDoc, plan: FakeTenantPlan) {
  const view = forecastViewOf(dry)!;
  expect(view).toMatchObject({
    complete: true,
    notes_total: plan.notesTotal,
    migrated: plan.expectedMigrated,
    skipped: 0,
    failed: plan.expectedFailed,
    out_of_scope: plan.outOfScope,
    with_warnings: plan.notesWithWarnings,
    contacts: { persons_seen: plan.persons.seen, persons_found: plan.persons.found, exact: true },
    owners: {
      by_crm_user_id: plan.owners.crm_user_id,
      by_email: plan.owners.email,
      unmapped: plan.owners.unmapped_named + plan.owners.unmapped_anonymous,
    },
    attachments: {
      would_store: plan.attachments.byOutcome.ok,
      blocked: plan.attachments.byOutcome.ssrf_blocked + plan.attachments.byOutcome.unlisted_host,
    },
  });
  const nonZero = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).filter(([, n]) => n > 0));
  expect(view.failures_by_reason).toEqual(nonZero(plan.failures));
  expect(view.warnings_by_reason).toEqual(nonZero(plan.warnings));
  if (view.attachments.verified) expect(view.attachments.would_store_bytes).toBe(plan.attachments.okBytes);
}

describe('a dry run forecasts the real run that follows it, figure for figure (#13)', () => {
  for (const name of ['realistic', 'messy', 'clean', 'mix'] as const) {
    it(`on the ${name === 'mix' ? 'custom --mix' : name} tenant, leaving contact_notes and S3 as they were`, async () => {
      const tn = TENANTS[name];
      const before = await snapshot(tn.companySsoId);
      const dry = await dryRun(tn);
      expect(dry).toMatchObject({
        kind: 'dry_run',
        status: 'completed_success',
        options: { verify_attachments: true },
      });
      expect(await snapshot(tn.companySsoId)).toEqual(before);
      expect(await t.repos.locks.get(tn.cid)).toBeNull();
      expectForecastEqualsPlan(dry, crm.plan(tn.cid));

      const real = await runToEnd(tn);
      expect(real.kind).toBe('migrate');
      await expectForecastEqualsRun(dry, real);
      if (name === 'messy') {
        // Scattered failures: halted by rate, with the dominant failure named, not as systemic.
        expect(real.halt_reason).toMatch(/^failure_rate 0\.\d{4} > MAX_FAILURE_RATE 0\.01 after page 1$/);
        expect(real.halt_diagnosis).toMatchObject({ systemic: false });
      } else {
        expect(real.status).toBe('completed_success');
        expect(dry.forecast?.estimated_duration?.total_ms).toBeGreaterThan(0);
      }
    });
  }

  it('without verify_attachments: the same forecast except what only a download can tell', async () => {
    const tn = TENANTS.unverified;
    const before = await snapshot(tn.companySsoId);
    const verified = await dryRun(tn, true);
    const urlsOnly = await dryRun(tn, false);
    expect(await snapshot(tn.companySsoId)).toEqual(before);
    const downloadOnly: ReasonCode[] = [
      'ATTACHMENT_TYPE_MISMATCH',
      'ATTACHMENT_TOO_LARGE',
      'ATTACHMENT_DOWNLOAD_FAILED',
    ];
    const byReason = (r: RunDoc) => problemTallyOf(r).by_reason;
    const strip = (r: RunDoc) =>
      Object.fromEntries(
        Object.entries(byReason(r)).filter(([c]) => !downloadOnly.includes(c as ReasonCode)),
      );
    expect(urlsOnly.forecast?.verify_attachments).toBe(false);
    expect(downloadOnly.every((c) => (byReason(urlsOnly)[c] ?? 0) === 0)).toBe(true);
    expect(downloadOnly.every((c) => (byReason(verified)[c] ?? 0) > 0)).toBe(true);
    expect(strip(urlsOnly)).toEqual(strip(verified));
    // A failed attachment never fails its note: the counts by outcome are the same.
    expect(urlsOnly).toMatchObject({
      notes_migrated: verified.notes_migrated,
      notes_failed: verified.notes_failed,
      notes_skipped: 0,
    });
    expect(forecastViewOf(urlsOnly)?.attachments).toMatchObject({
      verified: false,
      declared: verified.forecast?.attachments.declared,
    });
  });
});

describe('systemic causes halt a real run after page 1, each with its own diagnosis (DESIGN.md §11.4)', () => {
  const cases = [
    [
      'contactsMissing',
      'CONTACT_NOT_MAPPED',
      (tn: Tenant) => `contacts of company ${tn.companySsoId} are not in CDP`,
    ],
    [
      'attachmentsBlocked',
      'ATTACHMENT_SSRF_BLOCKED',
      () => `the allow-list misses host ${UNLISTED_ATTACHMENT_HOST}`,
    ],
    ['payloadsBroken', 'CRM_PAYLOAD_INVALID', (tn: Tenant) => `CRM notes of company ${tn.companySsoId}`],
  ] as const;
  for (const [name, code, hint] of cases) {
    it(`${name}: forecast, then the real run halts on it with ${code}`, async () => {
      const tn = TENANTS[name];
      const dry = await dryRun(tn);
      expect(dry.status).toBe('completed_success');
      expect(dry.notes_processed).toBe(tn.noteCount); // the dry run reads on to the end
      expect(dry.forecast?.would_halt).toMatchObject({
        page: 1,
        trigger: 'systemic',
        diagnosis: { reason_code: code },
      });
      const real = await runToEnd(tn);
      expect(real).toMatchObject({
        status: 'halted',
        checkpoint: { page: 1 },
        halt_diagnosis: { reason_code: code, systemic: true },
      });
      expect(real.halt_diagnosis?.hint).toContain(hint(tn));
      expect(real.halt_diagnosis?.sample_note_ids.length).toBe(5);
      await expectForecastEqualsRun(dry, real);
      const status = await call(api, 'GET', `/private/notes/migration/status?cid=${tn.cid}`);
      expect(status.json).toMatchObject({ status: 'halted', halt_diagnosis: { reason_code: code } });
    });
  }
});

describe('the dry run among other runs of its CID', () => {
  it('after completed_success forecasts 0 migrated, N skipped, writes nothing, and never makes the CID migrated again', async () => {
    const tn = TENANTS.afterSuccess;
    const plan = crm.plan(tn.cid);
    const real = await runToEnd(tn);
    expect(real.status).toBe('completed_success');
    const before = await snapshot(tn.companySsoId);
    expect(before.count).toBe(plan.expectedMigrated);
    expect(before.s3Keys.length).toBeGreaterThan(0);

    const dry = await dryRun(tn);
    expect(await snapshot(tn.companySsoId)).toEqual(before);
    expect(forecastViewOf(dry)).toMatchObject({
      migrated: 0,
      skipped: plan.expectedMigrated,
      failed: plan.expectedFailed,
      terminal_status: 'completed_success',
      match_pct: real.match_pct,
    });
    const again = await trigger(tn);
    expect(again.json).toMatchObject({ error: 'ALREADY_MIGRATED', details: { run_id: real._id } });
  });

  it('needs no flag; its completed_success does not block a migration; the flag still gates the migration', async () => {
    const tn = TENANTS.noFlag;
    const dry = await dryRun(tn);
    expect(dry.status).toBe('completed_success');
    expect((await trigger(tn)).json).toMatchObject({ error: 'FLAG_DISABLED' });
    await h.enableFlag(tn.cid);
    expect((await runToEnd(tn)).status).toBe('completed_success');
  });

  it('is refused with 409 JOB_ALREADY_RUNNING while a migration holds the CID, and holds it against one', async () => {
    const tn = TENANTS.locked;
    const migration = await trigger(tn);
    expect(migration.status).toBe(200);
    const refused = await trigger(tn, { kind: 'dry_run' });
    expect(refused).toMatchObject({
      status: 409,
      json: { error: 'JOB_ALREADY_RUNNING', details: { run_id: migration.json.run_id } },
    });
    await h.execute(migration.json.run_id as string);

    // Let a dry run be queued, then a migration is the one refused.
    await t.collections.contactNotes.deleteMany({ company_sso_id: tn.companySsoId });
    await t.collections.runs.deleteMany({ cid: tn.cid });
    const queued = await trigger(tn, { kind: 'dry_run' });
    expect(queued.status).toBe(200);
    expect((await trigger(tn)).json).toMatchObject({ error: 'JOB_ALREADY_RUNNING' });
    await h.execute(queued.json.run_id as string);
  });

  it('N concurrent dry-run triggers make exactly one run; the rest are 409', async () => {
    const tn = TENANTS.concurrent;
    const answers = await Promise.all(Array.from({ length: 8 }, () => trigger(tn, { kind: 'dry_run' })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409).every((a) => a.json.error === 'JOB_ALREADY_RUNNING')).toBe(
      true,
    );
    expect(await t.collections.runs.countDocuments({ cid: tn.cid })).toBe(1);
    await h.execute(answers.find((a) => a.status === 200)!.json.run_id as string);
  });
});

describe('a dry run’s failure records', () => {
  it('stay out of the default queries and exports; kind=dry_run or its run_id shows them', async () => {
    const tn = TENANTS.realistic;
    const runs = await t.repos.runs.listForCid(tn.cid, 10);
    const dry = runs.find((r) => r.kind === 'dry_run')!;
    const real = runs.find((r) => r.kind === 'migrate')!;
    const count = async (query: string) => {
      const res = await call(
        api,
        'GET',
        `/private/notes/migration/failures?cid=${tn.cid}&format=ndjson${query}`,
      );
      expect(res.status).toBe(200);
      return res.text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { kind: string; run_id: string });
    };
    const byDefault = await count('');
    const migrateRecords = await t.collections.failures.countDocuments({ run_id: real._id });
    const dryRecords = await t.collections.failures.countDocuments({ run_id: dry._id });
    expect(dryRecords).toBeGreaterThan(0);
    expect(byDefault).toHaveLength(migrateRecords);
    expect(byDefault.every((r) => r.kind === 'migrate')).toBe(true);
    const ofKind = await count('&kind=dry_run');
    expect(ofKind).toHaveLength(dryRecords);
    expect(ofKind.every((r) => r.kind === 'dry_run' && r.run_id === dry._id)).toBe(true);
    expect(await count(`&run_id=${dry._id}`)).toHaveLength(dryRecords);
    const page = await call(
      api,
      'GET',
      `/private/notes/migration/failures?cid=${tn.cid}&kind=dry_run&limit=5`,
    );
    expect(page.json.items).toHaveLength(5);
    const csv = await call(api, 'GET', `/private/notes/migration/failures?cid=${tn.cid}&format=csv`);
    expect(csv.text.trim().split('\n')).toHaveLength(migrateRecords + 1);
  });

  it('count as migrate records when stored before kinds existed', async () => {
    const tn = TENANTS.realistic;
    const dry = (await t.repos.runs.listForCid(tn.cid, 10)).find((r) => r.kind === 'dry_run')!;
    const legacy = await t.collections.failures.findOne({ run_id: dry._id });
    await t.collections.failures.updateOne({ _id: legacy!._id }, { $unset: { kind: '' } });
    const res = await call(api, 'GET', `/private/notes/migration/failures?cid=${tn.cid}&format=ndjson`);
    expect(res.text).toContain(legacy!._id.toHexString());
    await t.collections.failures.updateOne({ _id: legacy!._id }, { $set: { kind: 'dry_run' } });
  });
});

describe('hostile input for the dry run’s trigger fields', () => {
  it.each([
    [
      'verify_attachments as a string',
      { kind: 'dry_run', verify_attachments: 'true' },
      /verify_attachments must be true or false, got "true"/,
    ],
    [
      'verify_attachments as a number',
      { kind: 'dry_run', verify_attachments: 1 },
      /verify_attachments must be true or false, got 1/,
    ],
    [
      'verify_attachments null',
      { kind: 'dry_run', verify_attachments: null },
      /verify_attachments must be true or false, got null/,
    ],
    [
      'verify_attachments as an operator',
      { kind: 'dry_run', verify_attachments: { $ne: false } },
      /verify_attachments must be true or false/,
    ],
    [
      'verify_attachments for a migration',
      { verify_attachments: true },
      /verify_attachments does not apply to kind migrate/,
    ],
    [
      'verify_attachments false for a migration',
      { kind: 'migrate', verify_attachments: false },
      /does not apply to kind migrate/,
    ],
    [
      'the CLI spelling of the kind',
      { kind: 'dry-run' },
      /kind must be one of migrate, dry_run, reconcile, repair, got "dry-run"/,
    ],
    ['a kind with an operator', { kind: { $in: ['dry_run'] } }, /kind must be one of/],
    ['an unknown option', { kind: 'dry_run', verify: true }, /verify/],
  ])('refuses %s with 400 and writes nothing', async (_what, extra, message) => {
    const tn = TENANTS.concurrent;
    const runsBefore = await t.collections.runs.countDocuments({ cid: tn.cid });
    const res = await trigger(tn, extra);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('VALIDATION_ERROR');
    expect(res.json.message).toMatch(message);
    expect(await t.collections.runs.countDocuments({ cid: tn.cid })).toBe(runsBefore);
    expect(await t.repos.locks.get(tn.cid)).toBeNull();
  });

  it('refuses a hostile kind filter on the failure queries', async () => {
    for (const kind of ['teleport', 'dry-run', '']) {
      const res = await call(
        api,
        'GET',
        `/private/notes/migration/failures?cid=8101&kind=${encodeURIComponent(kind)}`,
      );
      expect(res.status).toBe(400);
    }
    const twice = await call(
      api,
      'GET',
      '/private/notes/migration/failures?cid=8101&kind=dry_run&kind=migrate',
    );
    expect(twice.status).toBe(400);
  });
});
