/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The operator console in a real browser (#17): Debian's Chromium through playwright-core against
 * the whole service (API + worker in this process, the fake CRM over HTTP, S3, the test MongoDB).
 * The operator's path: start a dry run (when the service has them) and a migration from the
 * tenants page, watch the progress bar reach 100 % without a reload while the connection is cut
 * and resumed, open the run page, compare its failure counts with the API's, download the CSV,
 * open the rollback preview (when the service has it). Then a tenant full of hostile strings must
 * render inert, and the pages must pass accessibility basics. Screenshots are saved and printed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CrmNotesExtractor } from '../../src/crm/crm-notes-extractor.js';
import { makeConfigStamp, makeCrmNote, makeRun } from '../fixtures/builders.js';
import { makeFailure } from '../fixtures/failure-docs.js';
import { HOSTILE_ALL, HOSTILE_STRINGS } from '../fixtures/hostile-strings.js';
import { ARTIFACTS_DIR, saveScreenshot, unnamedControls } from '../helpers/browser.js';
import { CONSOLE_USER, type ConsoleStack, startConsoleStack } from '../helpers/console-stack.js';
import { createMemoryCrm } from '../helpers/memory-crm.js';
import { useTestDb } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const tenant = {
  cid: '1001',
  companySsoId: 'demo-company',
  noteCount: 600,
  seed: 7,
  preset: 'realistic' as const,
};
const HOSTILE_CID = '6660';

let stack: ConsoleStack;

/** The HTTP CRM client for the fake tenant, memory notes for the hostile one. */
function routingExtractor(http: CrmNotesExtractor): CrmNotesExtractor {
  const hostile = createMemoryCrm(hostileNotes());
  return {
    listPersonNotes: (cid, page, perPage, signal) =>
      cid === HOSTILE_CID
        ? hostile.listPersonNotes(cid, page, perPage, signal)
        : http.listPersonNotes(cid, page, perPage, signal),
    probeOrganization: (cid, signal) =>
      cid === HOSTILE_CID ? hostile.probeOrganization(cid) : http.probeOrganization(cid, signal),
  };
}

/** Notes whose creator names and attachments carry the hostile strings into failure records. */
function hostileNotes() {
  return HOSTILE_STRINGS.flatMap((s, i) => [
    makeCrmNote({
      id: String(9_000 + i * 2),
      creatorId: '999999',
      creatorName: s,
      creatorEmail: null,
      crmPersonId: '7',
      attachments: [{ url: s, fileName: s, contentType: 'image/png', size: 10 }],
    }),
    makeCrmNote({ id: String(9_001 + i * 2), crmPersonId: '12345678', creatorName: s }),
  ]);
}

beforeAll(async () => {
  stack = await startConsoleStack(t, {
    tenants: [tenant],
    extractor: routingExtractor,
    flaggedCids: [HOSTILE_CID],
  });
  await t.collections.contacts.insertOne({
    _id: 'hostile-contact',
    company_sso_id: `co-${HOSTILE_CID}`,
    crm_data: { id: '7' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const openPage = (url: string) => stack.openPage(url);
const api = (method: 'GET' | 'POST', url: string, body?: unknown) => stack.api(method, url, body);

/** Starts a run from the start form and confirms it in the dialog. */
async function startFromForm(page: Page, kind: string) {
  const form = page.locator('#start-form');
  await form.getByLabel('CID', { exact: true }).fill(tenant.cid);
  await form.getByLabel('Company (company_sso_id)').fill(tenant.companySsoId);
  await form.getByLabel('Kind').selectOption(kind);
  // A dry run predicts download and type problems only when it downloads the attachments (#13).
  const verify = form.locator('input[name="verify_attachments"]');
  if (kind === 'dry_run' && (await verify.count()) > 0) await verify.check();
  await form.getByRole('button', { name: 'Start…' }).click();
  const dialog = page.getByRole('dialog');
  await expect.poll(() => dialog.isVisible()).toBe(true);
  expect(await dialog.textContent()).toContain(`CID ${tenant.cid}, company ${tenant.companySsoId}`);
  await page.locator('#confirm-ok').click();
  await expect.poll(() => page.locator('#action-result').textContent()).toContain('Started');
}

let migrateRunId = '';
/** Whether the service offered a dry run (then the run page must set the forecast beside the actual). */
let dryRunOffered = false;

describe('the operator console in Chromium (#17)', () => {
  it('starts runs from the tenants page and shows the migration reach 100 % live, through a cut connection', async () => {
    const { page, watch } = await openPage('/private/console');
    expect(await page.locator('#no-tenants').isVisible()).toBe(true);
    await page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true));

    const kinds = await page
      .locator('#start-form select[name=kind] option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    dryRunOffered = kinds.includes('dry_run');
    if (dryRunOffered) {
      await startFromForm(page, 'dry_run');
      await expect
        .poll(() => page.locator(`tr[data-cid="${tenant.cid}"] [data-field="kind"]`).textContent(), {
          timeout: 60_000,
        })
        .toBe('dry_run');
      await expect
        .poll(() => page.locator(`tr[data-cid="${tenant.cid}"] .badge`).getAttribute('data-status'), {
          timeout: 60_000,
        })
        .toMatch(/^completed_/);
    } else {
      process.stdout.write(
        'dry run from the page: not offered by this service (no `dry_run` kind yet, #13)\n',
      );
    }

    const held = stack.holdPage(tenant.cid, 3);
    await startFromForm(page, 'migrate');
    const row = page.locator(`tr[data-cid="${tenant.cid}"]`);
    await held.reached;
    // Pages 1-2 are written; page 3 waits: the bar must show the run mid-way.
    await expect
      .poll(() => row.locator('progress').evaluate((p) => (p as HTMLProgressElement).value), {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
    expect(await row.locator('progress').evaluate((p) => (p as HTMLProgressElement).value)).toBeLessThan(100);
    expect(await page.locator('#live-state').textContent()).toBe('live');

    // A network blip: every connection is cut and refused for a while.
    const requestsBefore = stack.proxy.requests.length;
    stack.proxy.pause();
    await expect
      .poll(() => page.locator('#live-state').textContent(), { timeout: 15_000 })
      .toBe('reconnecting…');
    stack.proxy.resume();
    await expect.poll(() => page.locator('#live-state').textContent(), { timeout: 15_000 }).toBe('live');
    const resumed = stack.proxy.requests.slice(requestsBefore).find((h) => h.includes('/tenants/stream'));
    expect(resumed, 'the EventSource reconnected').toBeDefined();
    expect(resumed).toMatch(/\r\nlast-event-id: set\.[0-9a-f]{16}/i);

    held.release();
    await expect
      .poll(() => row.locator('progress').evaluate((p) => (p as HTMLProgressElement).value), {
        timeout: 90_000,
      })
      .toBe(100);
    await expect
      .poll(() => row.locator('.badge').getAttribute('data-status'), { timeout: 30_000 })
      .toMatch(/^completed_/);
    expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(
      true,
    );

    // The terminal state reached the page exactly once, across the reconnect.
    const frames = await page.evaluate(
      () => (window as unknown as { __frames: { data: string }[] }).__frames,
    );
    const terminal = frames
      .map((f) => JSON.parse(f.data) as { cid: string; kind: string; status: string })
      .filter((f) => f.cid === tenant.cid && f.kind === 'migrate' && f.status !== 'in_progress');
    expect(terminal).toHaveLength(1);

    migrateRunId = (await row.getAttribute('data-run-id'))!;
    const status = await api('GET', `/private/notes/migration/status?cid=${tenant.cid}`);
    expect(status.json).toMatchObject({
      run_id: migrateRunId,
      progress_pct: 100,
      triggered_by: CONSOLE_USER,
    });
    expect(await row.locator('[data-field="notes"]').textContent()).toBe(
      `${status.json.notes_processed} / ${status.json.notes_total}`,
    );
    await saveScreenshot(page, 'tenants');
    // The cut stream and the refused reconnects are the blip this test made, and Chromium logs them.
    const blip = [/net::ERR_(INCOMPLETE_CHUNKED_ENCODING|EMPTY_RESPONSE|CONNECTION_(RESET|CLOSED|REFUSED))/];
    expect(await watch.problems({ allow: blip })).toEqual([]);
    await page.close();
  });

  it('shows the run page with the API’s failure counts by reason, exports the CSV, and previews a rollback when offered', async () => {
    const { page, watch } = await openPage('/private/console');
    await page.locator(`tr[data-cid="${tenant.cid}"] a[data-field-link="run"]`).click();
    await page.waitForURL(`**/private/console/runs/${migrateRunId}`);
    expect(await page.locator('h1').textContent()).toContain(migrateRunId);

    const shown = Object.fromEntries(
      await page
        .locator('#reasons tbody tr')
        .evaluateAll((rows) =>
          rows.map((r) => [
            (r as HTMLElement).dataset.reason,
            Number(r.querySelector('[data-field="reason-count"]')?.textContent),
          ]),
        ),
    );
    const exported = await stack.context.request.get(
      `/private/notes/migration/failures?cid=${tenant.cid}&run_id=${migrateRunId}&format=ndjson`,
    );
    const records = (await exported.text())
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { reason_code: string });
    const byApi: Record<string, number> = {};
    for (const r of records) byApi[r.reason_code] = (byApi[r.reason_code] ?? 0) + 1;
    expect(shown).toEqual(byApi);
    // And both equal what the fake CRM planted.
    const plan = stack.crm.plan(tenant.cid);
    const planted = Object.fromEntries(
      Object.entries({ ...plan.failures, ...plan.warnings }).filter(([, n]) => n > 0),
    );
    expect(shown).toEqual(planted);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('a[data-export="csv"]').click(),
    ]);
    const file = path.join(ARTIFACTS_DIR, 'failures.csv');
    await download.saveAs(file);
    const csv = readFileSync(file, 'utf8').trim().split('\n');
    expect(csv[0]).toBe(
      'id,cid,company_sso_id,run_id,kind,legacy_crm_note_id,reason_code,severity,created_at,details',
    );
    expect(csv.length - 1).toBeGreaterThanOrEqual(records.length); // details with newlines span lines
    process.stdout.write(`downloaded CSV: ${file} (${records.length} records)\n`);

    // The dry run's forecast beside the actual run: every figure and reason code the same.
    const comparison = page.locator('#forecast-vs-actual tbody tr');
    if (dryRunOffered) {
      const figures = await comparison.evaluateAll((rows) =>
        rows.map((r) => [
          (r as HTMLElement).dataset.figure,
          r.querySelector('[data-field="same"]')?.textContent,
        ]),
      );
      expect(figures.length).toBeGreaterThan(9);
      expect(figures.filter(([, same]) => same !== 'yes')).toEqual([]);
    } else {
      expect(await comparison.count()).toBe(0);
    }

    const rollback = page.locator('button[data-action="rollback"]');
    if ((await rollback.count()) > 0) {
      await rollback.click();
      const dialog = page.getByRole('dialog');
      await expect.poll(() => dialog.isVisible(), { timeout: 15_000 }).toBe(true);
      expect(await page.locator('#rollback-preview').isVisible()).toBe(true);
      const preview = await api('POST', `/private/notes/migration/runs/${migrateRunId}/rollback`, {
        dry_run: true,
      });
      const previewText = await page.locator('#rollback-preview').textContent();
      for (const [key, value] of Object.entries(preview.json as Record<string, unknown>)) {
        if (typeof value === 'number')
          expect(previewText).toContain(`${key.replaceAll('_', ' ')}: ${value.toLocaleString('en-US')}`);
      }
      await page.locator('#confirm-cancel').click();
    } else {
      process.stdout.write('rollback preview: not offered by this service (no rollback route yet, #14)\n');
    }
    await saveScreenshot(page, 'run');
    expect(await watch.problems()).toEqual([]);
    await page.close();
  });

  it('renders a tenant full of hostile strings inert: no dialog, no script, no console error, no CSP violation', async () => {
    const started = await api('POST', '/private/notes/migrate', {
      cid: HOSTILE_CID,
      company_sso_id: `co-${HOSTILE_CID}`,
    });
    expect(started.status).toBe(200);
    await waitFor(
      () => stack.app.repos.runs.get(started.json.run_id),
      (r) => r !== null && r.status !== 'in_progress',
      { what: 'the hostile run to end', timeoutMs: 60_000 },
    );
    // Fields the pipeline cannot make hostile (ids, company, audit stamp) are planted in the database.
    await t.collections.runs.insertOne(
      makeRun({
        _id: 'hostile-seeded',
        cid: '6661',
        company_sso_id: HOSTILE_STRINGS[1],
        status: 'halted',
        halt_reason: HOSTILE_ALL,
        error: { code: 'CRM_EXTRACT_FAILED', message: HOSTILE_STRINGS[0] },
        triggered_by: HOSTILE_STRINGS[2],
        owner: HOSTILE_STRINGS[4],
        config: makeConfigStamp({ attachment_hosts: [...HOSTILE_STRINGS] }),
        closure: {
          balanced: false,
          notes_total: 1,
          accounted: 0,
          unaccounted_ids: [...HOSTILE_STRINGS],
          unaccounted_count: 8,
        },
      }),
    );
    await t.collections.failures.insertMany(
      HOSTILE_STRINGS.map((s) =>
        makeFailure({
          cid: '6661',
          run_id: 'hostile-seeded',
          legacy_crm_note_id: s,
          company_sso_id: s,
          details: { [s]: s },
        }),
      ),
    );
    for (const url of [
      `/private/console/runs/${started.json.run_id}`,
      '/private/console/runs/hostile-seeded',
      '/private/console?q=666',
    ]) {
      const { page, watch } = await openPage(url);
      // The live DOM (after the page's scripts ran) holds no handler attribute and no script URL.
      const active = await page.evaluate(() =>
        [...document.querySelectorAll('*')].flatMap((el) =>
          [...el.attributes]
            .filter(
              (a) =>
                a.name.startsWith('on') ||
                (['href', 'src', 'action', 'formaction'].includes(a.name) &&
                  /^\s*javascript:/i.test(a.value)),
            )
            .map((a) => `<${el.tagName.toLowerCase()} ${a.name}>`),
        ),
      );
      expect(active, url).toEqual([]);
      await page.keyboard.press('Tab');
      const text = await page.locator('main').innerText();
      expect(text, url).toContain('<script>');
      expect(await watch.problems(), url).toEqual([]);
      if (url.includes('hostile-seeded')) await saveScreenshot(page, 'hostile-run');
      await page.close();
    }
  });

  it('names every control and never says a status by colour alone', async () => {
    for (const url of ['/private/console', `/private/console/runs/${migrateRunId}`]) {
      const { page, watch } = await openPage(url);
      expect(await unnamedControls(page), url).toEqual([]);
      const badges = await page.locator('.badge').evaluateAll((els) =>
        els.map((b) => ({
          status: (b as HTMLElement).dataset.status,
          text: b.querySelector('.badge-label')?.textContent ?? '',
        })),
      );
      expect(badges.length, url).toBeGreaterThan(0);
      for (const b of badges) expect(b.text, url).toBe((b.status ?? '').replaceAll('_', ' '));
      const progress = await page.locator('progress').evaluateAll((els) =>
        els.map((p) => ({
          label: p.getAttribute('aria-label'),
          text: p.nextElementSibling?.textContent ?? '',
        })),
      );
      for (const p of progress) {
        expect(p.label, url).toMatch(/^Progress of /);
        expect(p.text, url).toMatch(/^\d+\.\d %$/);
      }
      expect(await watch.problems(), url).toEqual([]);
      await page.close();
    }
    expect(stack.errorLogs, 'error-level log lines of the service').toEqual([]);
  });
});
