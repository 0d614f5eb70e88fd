import { describe, expect, it } from 'vitest';

import { findFakeFile } from '../../../../src/crm/fake/fake-files.js';
import { createFakeNoteGenerator } from '../../../../src/crm/fake/fake-note-generator.js';
import { resolveFakeTenant } from '../../../../src/crm/fake/fake-tenant-options.js';
import { computeFakeTenantPlan } from '../../../../src/crm/fake/fake-tenant-plan.js';
import { createFakeCrmScanner } from '../../../helpers/fake-crm-scan.js';

const FILES_URL = 'http://fake-crm.test';

async function scanAll(tenant: ReturnType<typeof resolveFakeTenant>) {
  const generator = createFakeNoteGenerator(tenant, FILES_URL);
  const scanner = createFakeCrmScanner(tenant, (url) => {
    const m = /^\/files\/[^/]+\/(\d+)\/(\d+)\//.exec(url.pathname);
    return url.origin === FILES_URL && m ? findFakeFile(generator, Number(m[1]), Number(m[2])) : null;
  });
  for (let i = 0; i < tenant.noteCount; i++) await scanner.scan(generator.note(i));
  return scanner.tally;
}

/** The scans sanitize every note (CPU-bound): 3–5 s alone, more on a loaded 2-core machine. */
const SCAN_TIMEOUT_MS = 30_000;

describe('fake tenant plan', () => {
  it(
    'equals what a full scan of a messy tenant finds, code by code',
    async () => {
      const tenant = resolveFakeTenant({
        cid: 'scan-1',
        companySsoId: 'co-scan',
        noteCount: 4000,
        seed: 7,
        preset: 'messy',
      });
      const plan = computeFakeTenantPlan(tenant);
      const found = await scanAll(tenant);

      // Every planted kind of trouble is really there, so the comparison below means something.
      for (const [code, count] of Object.entries({ ...plan.failures, ...plan.warnings })) {
        if (code !== 'ATTACHMENT_UPLOAD_FAILED') expect(count, code).toBeGreaterThan(0);
      }
      expect(found.total).toBe(plan.notesTotal);
      expect(found.outOfScope).toBe(plan.outOfScope);
      expect(found.migrated).toBe(plan.expectedMigrated);
      expect(found.emptyBodyWithAttachments).toBe(plan.emptyBodyWithAttachments);
      for (const [code, count] of Object.entries(plan.failures))
        expect(found.failures[code] ?? 0, code).toBe(count);
      for (const [code, count] of Object.entries(plan.warnings))
        expect(found.warnings[code] ?? 0, code).toBe(count);
      expect(found.attachments.ok).toBe(plan.attachments.byOutcome.ok);
      expect(plan.expectedMigrated + plan.expectedFailed + plan.outOfScope).toBe(plan.notesTotal);
    },
    SCAN_TIMEOUT_MS,
  );

  it(
    'equals a full scan of a realistic tenant too',
    async () => {
      const tenant = resolveFakeTenant({
        cid: 'scan-2',
        companySsoId: 'co-scan-2',
        noteCount: 3000,
        seed: 3,
      });
      const plan = computeFakeTenantPlan(tenant);
      const found = await scanAll(tenant);
      expect(found.migrated).toBe(plan.expectedMigrated);
      expect(found.failures).toEqual(
        Object.fromEntries(Object.entries(plan.failures).filter(([, n]) => n > 0)),
      );
      expect(found.warnings).toEqual(
        Object.fromEntries(Object.entries(plan.warnings).filter(([, n]) => n > 0)),
      );
    },
    SCAN_TIMEOUT_MS,
  );

  it('plans a clean tenant with nothing but migrated notes', () => {
    const plan = computeFakeTenantPlan(
      resolveFakeTenant({ cid: 'c', companySsoId: 'co', noteCount: 10_000, preset: 'clean' }),
    );
    expect(plan).toMatchObject({
      notesTotal: 10_000,
      inScope: 10_000,
      expectedMigrated: 10_000,
      expectedFailed: 0,
    });
    expect(plan.expectedMatchPct).toBe(1);
    expect(plan.attachments.total).toBe(0);
    expect(Object.values(plan.warnings).every((n) => n === 0)).toBe(true);
  });

  it('keeps a realistic tenant far enough under the 1% halt on every 500-note page', () => {
    const tenant = resolveFakeTenant({ cid: 'spread', companySsoId: 'co', noteCount: 20_000, seed: 11 });
    const plan = computeFakeTenantPlan(tenant);
    expect(plan.expectedFailureRate).toBeLessThan(0.006);
    let failed = 0;
    let inScope = 0;
    const generator = createFakeNoteGenerator(tenant, FILES_URL);
    for (let i = 0; i < tenant.noteCount; i++) {
      const t = generator.traits(i);
      if (t.category !== 'out_of_scope') inScope++;
      if (t.category !== 'out_of_scope' && t.category !== 'migrated') failed++;
      if ((i + 1) % 500 === 0)
        expect(failed / inScope, `after page ${(i + 1) / 500}`).toBeLessThanOrEqual(0.01);
    }
  });

  // How fast is a benchmark question (STYLE.md: no timed tests); here only that it adds up.
  it('plans 100,000 notes, every one in exactly one bucket', () => {
    const tenant = resolveFakeTenant({ cid: 'big', companySsoId: 'co', noteCount: 100_000 });
    const plan = computeFakeTenantPlan(tenant);
    expect(plan.notesTotal).toBe(100_000);
    expect(plan.expectedMigrated + plan.expectedFailed + plan.outOfScope).toBe(100_000);
  });

  describe('systemic causes (#13): one preset each', () => {
    const firstPage = (preset: 'contacts-missing' | 'payloads-broken') => {
      const tenant = resolveFakeTenant({ cid: preset, companySsoId: 'co', noteCount: 500, preset });
      return computeFakeTenantPlan(tenant);
    };

    it('contacts-missing: most in-scope notes of the first page have a person CDP does not know', () => {
      const plan = firstPage('contacts-missing');
      expect(plan.failures.CONTACT_NOT_MAPPED / plan.inScope).toBeGreaterThanOrEqual(0.5);
      expect(plan.persons.found).toBeLessThan(plan.persons.seen);
    });

    it('payloads-broken: most notes of the first page break the payload contract', () => {
      const plan = firstPage('payloads-broken');
      expect(plan.failures.CRM_PAYLOAD_INVALID / plan.inScope).toBeGreaterThanOrEqual(0.5);
    });

    it(
      'attachments-blocked: every attachment is on a host no allow-list has, one warning per note',
      async () => {
        const tenant = resolveFakeTenant({
          cid: 'blocked',
          companySsoId: 'co-blocked',
          noteCount: 1_000,
          preset: 'attachments-blocked',
        });
        const plan = computeFakeTenantPlan(tenant);
        expect(plan.attachments.total).toBeGreaterThan(100);
        expect(plan.attachments.byOutcome.unlisted_host).toBe(plan.attachments.total);
        const generator = createFakeNoteGenerator(tenant, FILES_URL);
        const notesWithAttachments = Array.from({ length: tenant.noteCount }, (_, i) =>
          generator.traits(i),
        ).filter((t) => t.category === 'migrated' && t.attachments.length > 0).length;
        expect(plan.warnings.ATTACHMENT_SSRF_BLOCKED).toBe(notesWithAttachments);
        const found = await scanAll(tenant);
        expect(found.warnings.ATTACHMENT_SSRF_BLOCKED).toBe(plan.warnings.ATTACHMENT_SSRF_BLOCKED);
        expect(found.migrated).toBe(plan.expectedMigrated);
      },
      SCAN_TIMEOUT_MS,
    );

    it('planting unlisted hosts changes nothing but those attachments: every other trait stays as it was', () => {
      const base = { cid: 'same', companySsoId: 'co', noteCount: 2_000, seed: 5 };
      const without = createFakeNoteGenerator(resolveFakeTenant(base), FILES_URL);
      const withHosts = createFakeNoteGenerator(
        resolveFakeTenant({ ...base, mix: { attachmentUnlistedHostShare: 0.5 } }),
        FILES_URL,
      );
      let changed = 0;
      for (let i = 0; i < base.noteCount; i++) {
        const a = without.traits(i);
        const b = withHosts.traits(i);
        const strip = (t: typeof a) => ({
          ...t,
          attachments: t.attachments.map((x) => ({ ...x, outcome: 'x' })),
        });
        expect(strip(b)).toEqual(strip(a));
        if (b.attachments.some((x) => x.outcome === 'unlisted_host')) {
          changed++;
          expect(b.attachments.every((x) => x.outcome === 'unlisted_host')).toBe(true);
        }
      }
      expect(changed).toBeGreaterThan(20);
    });
  });
});
