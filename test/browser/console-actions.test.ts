/// <reference lib="dom" />
/**
 * The console's actions in a real browser (#17): each is behind a confirmation that says what
 * will happen, and calls the same API as the CLI. A migration is cancelled from its live run page
 * and resumed from the checkpoint; a rollback is previewed and started, and a reconcile and a
 * repair are started from the run page's form (when the service has the rollback route and those
 * kinds, #14); a wave is followed, paused and resumed from its page (when the service has
 * the waves API, #16). Debian's Chromium through playwright-core, against the whole service.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { saveScreenshot, unnamedControls } from '../helpers/browser.js';
import { CONSOLE_USER, type ConsoleStack, startConsoleStack } from '../helpers/console-stack.js';
import { useTestDb } from '../helpers/test-db.js';
import { waitFor } from '../helpers/wait-for.js';

const t = useTestDb(import.meta.url);
const tenant = {
  cid: '1002',
  companySsoId: 'actions-company',
  noteCount: 600,
  seed: 11,
  preset: 'clean' as const,
};
/** Two small tenants for a wave: the first is its canary. */
const waveTenants = [
  { cid: '1003', companySsoId: 'wave-canary', noteCount: 300, seed: 12, preset: 'clean' as const },
  { cid: '1004', companySsoId: 'wave-second', noteCount: 200, seed: 13, preset: 'clean' as const },
];

let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack(t, { tenants: [tenant, ...waveTenants] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const blip = [/net::ERR_/];
const badgeOf = (page: Page, scope = '#run') => page.locator(`${scope} .badge`).first();

/** Clicks an action button and answers its confirmation; returns what the dialog said. */
async function confirmThrough(page: Page, button: string, answer: 'ok' | 'cancel'): Promise<string> {
  await page.getByRole('button', { name: button }).click();
  const dialog = page.getByRole('dialog');
  await expect.poll(() => dialog.isVisible()).toBe(true);
  const said = (await dialog.textContent()) ?? '';
  await page.locator(answer === 'ok' ? '#confirm-ok' : '#confirm-cancel').click();
  await expect.poll(() => dialog.isVisible()).toBe(false);
  return said;
}

/**
 * Notes a run inserted, by its provenance index: the test server answers an unhinted query on the
 * run id with nothing at times (docs/testing.md, "A wrong answer we work around").
 */
const notesOfRun = (runId: string) =>
  t.collections.contactNotes.countDocuments(
    { company_sso_id: tenant.companySsoId, legacy_migration_run_id: runId },
    { hint: { company_sso_id: 1, legacy_migration_run_id: 1 } },
  );

async function runOf(runId: string) {
  const run = await stack.app.repos.runs.get(runId);
  if (!run) throw new Error(`no run ${runId}`);
  return run;
}

let resumedRunId = '';

describe('console actions in Chromium (#17)', () => {
  it('cancels a running migration from its live run page and resumes it from the checkpoint, each after a confirmation', async () => {
    const held = stack.holdPage(tenant.cid, 3);
    const started = await stack.api('POST', '/private/notes/migrate', {
      cid: tenant.cid,
      company_sso_id: tenant.companySsoId,
    });
    expect(started.status).toBe(200);
    const runId: string = started.json.run_id;
    await held.reached;

    const { page, watch } = await stack.openPage(`/private/console/runs/${runId}`);
    await expect.poll(() => page.locator('#live-state').textContent()).toBe('live');
    expect(await badgeOf(page).getAttribute('data-status')).toBe('in_progress');

    // Declining the confirmation changes nothing.
    const declined = await confirmThrough(page, 'Cancel run…', 'cancel');
    expect(declined).toContain(
      `Cancel the migrate run of CID ${tenant.cid}: the worker stops after its current page`,
    );
    expect((await runOf(runId)).cancel_requested).toBe(false);

    await confirmThrough(page, 'Cancel run…', 'ok');
    await expect.poll(() => page.locator('#action-result').textContent()).toContain('Cancel requested');
    expect((await runOf(runId)).cancel_requested).toBe(true);
    held.release();
    // The live page sees the run end without a reload.
    await expect.poll(() => badgeOf(page).getAttribute('data-status'), { timeout: 30_000 }).toBe('cancelled');
    await expect.poll(() => page.locator('#run-notice').textContent()).toContain('The run ended: cancelled');

    const cancelled = await runOf(runId);
    const next = cancelled.checkpoint.page + 1;
    await page.getByRole('link', { name: /Reload for its final failures/ }).click();
    await page.waitForURL(`**/private/console/runs/${runId}`);
    const said = await confirmThrough(page, `Resume from page ${next}…`, 'ok');
    expect(said).toContain(`Resume the migrate run of CID ${tenant.cid} from page ${next}`);
    await expect.poll(() => page.locator('#action-result').textContent()).toContain('resuming this one');
    await page.locator('#action-result').getByRole('link', { name: 'Open it' }).click();
    await page.waitForURL(
      (url) => url.pathname.startsWith('/private/console/runs/') && !url.pathname.endsWith(runId),
    );
    resumedRunId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);

    await expect
      .poll(() => badgeOf(page).getAttribute('data-status'), { timeout: 60_000 })
      .toBe('completed_success');
    const resumed = await runOf(resumedRunId);
    expect(resumed).toMatchObject({ resumed_from_run_id: runId, mode: 'resume', triggered_by: CONSOLE_USER });
    // Cancelled and resumed, every planted note is in CDP exactly once.
    const plan = stack.crm.plan(tenant.cid);
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: tenant.companySsoId })).toBe(
      plan.expectedMigrated,
    );
    // The resumed run carries the cancelled one's counters on; each note names the run that wrote it.
    expect(resumed.notes_migrated).toBe(plan.expectedMigrated);
    expect(await notesOfRun(runId)).toBe(cancelled.notes_migrated);
    expect(await watch.problems({ allow: blip })).toEqual([]);
    await page.close();
  });

  it('previews a rollback with its counts, then starts it after the confirmation (when the service has #14)', async () => {
    expect(resumedRunId, 'the first test resumed a run').not.toBe('');
    const { page, watch } = await stack.openPage(`/private/console/runs/${resumedRunId}`);
    const button = page.getByRole('button', { name: 'Preview rollback…' });
    if ((await button.count()) === 0) {
      const hasRoute = await stack.api('POST', `/private/notes/migration/runs/${resumedRunId}/rollback`, {
        dry_run: true,
      });
      expect(hasRoute.status, 'no rollback button, so the service must have no rollback route').toBe(404);
      process.stdout.write('rollback start: not offered by this service (no rollback route yet, #14)\n');
      await page.close();
      return;
    }
    const preview = await stack.api('POST', `/private/notes/migration/runs/${resumedRunId}/rollback`, {
      dry_run: true,
    });
    expect(preview.status).toBe(200);
    const written = await notesOfRun(resumedRunId);
    expect(written).toBeGreaterThan(0);
    expect(preview.json.would_delete).toBe(written);

    const said = await confirmThrough(page, 'Preview rollback…', 'ok');
    expect(said).toContain(`would delete: ${Number(preview.json.would_delete).toLocaleString('en-US')}`);
    expect(await page.locator('#rollback-preview').textContent()).toContain('would keep: 0');
    await expect.poll(() => page.locator('#action-result').textContent()).toContain('Started rollback run');
    await page.locator('#action-result').getByRole('link', { name: 'Open it' }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(resumedRunId));
    await expect
      .poll(() => badgeOf(page).getAttribute('data-status'), { timeout: 60_000 })
      .toMatch(/^completed_/);
    // The rollback's page links the run it undid, and that run's page links back.
    await page.reload();
    await page.getByRole('link', { name: resumedRunId }).first().click();
    await page.waitForURL(`**/private/console/runs/${resumedRunId}`);
    expect(await page.locator('#run').textContent()).toContain('Rolled back by');
    expect(await page.getByRole('button', { name: 'Preview rollback…' }).count()).toBe(0);
    const left = await t.collections.contactNotes.countDocuments({ company_sso_id: tenant.companySsoId });
    expect(left).toBe(stack.crm.plan(tenant.cid).expectedMigrated - written);
    expect(await notesOfRun(resumedRunId)).toBe(0);
    expect(await watch.problems({ allow: blip })).toEqual([]);
    await page.close();
  });

  it('starts a reconcile and then a repair from the run page, and shows their verdicts, findings and totals (when the service has #14)', async () => {
    const { page, watch } = await stack.openPage(`/private/console/runs/${resumedRunId}`);
    const kinds = await page
      .locator('#start-form select[name=kind] option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    if (!kinds.includes('reconcile') || !kinds.includes('repair')) {
      const refused = await stack.api('POST', '/private/notes/migrate', {
        cid: tenant.cid,
        company_sso_id: tenant.companySsoId,
        kind: 'reconcile',
      });
      expect(refused.status, 'no reconcile in the form, so the trigger must refuse the kind').toBe(400);
      process.stdout.write('reconcile and repair: not offered by this service (no such kinds yet, #14)\n');
      await page.close();
      return;
    }
    /** Starts `kind` from the page's form (prefilled with this tenant), opens its run, waits for its end. */
    const runFromForm = async (kind: string, effect: string) => {
      await page.locator('#start-form').getByLabel('Kind').selectOption(kind);
      // These kinds always restart: the form does not offer to resume them.
      expect(await page.locator('#start-form option[value="resume"]').isDisabled()).toBe(true);
      await page.locator('#start-form').getByRole('button', { name: 'Start…' }).click();
      const dialog = page.getByRole('dialog');
      await expect.poll(() => dialog.isVisible()).toBe(true);
      expect(await dialog.textContent()).toContain(effect);
      await page.locator('#confirm-ok').click();
      await expect.poll(() => page.locator('#action-result').textContent()).toContain(`Started ${kind} run`);
      await page.locator('#action-result').getByRole('link', { name: 'Open the run' }).click();
      await page.waitForURL((url) => url.pathname.startsWith('/private/console/runs/'));
      await expect
        .poll(() => badgeOf(page).getAttribute('data-status'), { timeout: 60_000 })
        .toMatch(/^completed_/);
      await page.reload();
      return runOf(decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!));
    };
    const figures = (id: string) => page.locator(`section[aria-labelledby="figures-${id}"]`).innerText();

    const reconcile = await runFromForm('reconcile', 'records a verdict per note; it writes no note');
    const verdicts = reconcile.reconcile!;
    const shown = await figures('reconcile');
    for (const [verdict, n] of Object.entries(verdicts)) {
      expect(shown).toMatch(new RegExp(`${verdict.replaceAll('_', ' ')}\\s+${n.toLocaleString('en-US')}`));
    }
    // What the rollback deleted (or nothing, without one) is what reconcile finds missing.
    const missing =
      stack.crm.plan(tenant.cid).expectedMigrated -
      (await t.collections.contactNotes.countDocuments({ company_sso_id: tenant.companySsoId }));
    expect(verdicts.missing).toBe(missing);
    if (missing > 0) {
      expect(
        await page
          .locator('#reasons tr[data-reason="RECONCILE_MISSING"] [data-field="reason-count"]')
          .textContent(),
      ).toBe(String(missing));
    }

    const repair = await runFromForm('repair', 'inserts missing notes and replaces stale untouched ones');
    const totals = repair.repair!;
    expect(totals.inserted).toBe(missing);
    expect(await figures('repair')).toMatch(new RegExp(`inserted\\s+${missing.toLocaleString('en-US')}`));
    expect(await t.collections.contactNotes.countDocuments({ company_sso_id: tenant.companySsoId })).toBe(
      stack.crm.plan(tenant.cid).expectedMigrated,
    );
    expect(await watch.problems({ allow: blip })).toEqual([]);
    await page.close();
  });

  it('follows a wave on its page — canary gate, stop rule, members — and pauses and resumes it (when the service has #16)', async () => {
    const { page: tenants, watch: tenantsWatch } = await stack.openPage('/private/console');
    const nav = tenants.getByRole('navigation').getByRole('link', { name: 'Waves' });
    if ((await nav.count()) === 0) {
      const hasRoute = await stack.api('GET', '/private/notes/waves');
      expect(hasRoute.status, 'no waves link, so the service must have no waves API').toBe(404);
      process.stdout.write('waves page: not offered by this service (no waves API yet, #16)\n');
      expect(await tenantsWatch.problems()).toEqual([]);
      await tenants.close();
      return;
    }
    const [canary, second] = waveTenants as [(typeof waveTenants)[0], (typeof waveTenants)[0]];
    const held = stack.holdPage(canary.cid, 2);
    const created = await stack.api('POST', '/private/notes/waves', {
      members: waveTenants.map((m) => ({ cid: m.cid, company_sso_id: m.companySsoId })),
      canary: 1,
      max_parallel_tenants: 2,
      stop_after_failed_tenants: 1,
    });
    expect(created.status).toBe(201);
    const waveId: string = created.json.wave_id;
    await held.reached;

    await nav.click();
    await tenants.waitForURL('**/private/console/waves');
    await tenants.getByRole('link', { name: waveId }).click();
    await tenants.waitForURL(`**/private/console/waves/${waveId}`);
    const page = tenants;
    const fact = (field: string) => page.locator(`#wave-summary [data-field="${field}"]`).textContent();
    const member = (cid: string) => page.locator(`#members tr[data-cid="${cid}"]`);
    await expect.poll(() => badgeOf(page, '#wave-summary').getAttribute('data-status')).toBe('running');
    expect(await fact('canary')).toContain(`1 canary (${canary.cid}); gate waiting`);
    expect(await fact('stop-rule')).toBe('the wave pauses after 1 member halted or failed');
    expect(await fact('parallel')).toBe('2');
    expect(await member(canary.cid).locator('.badge').getAttribute('data-status')).toBe('running');
    expect(await member(canary.cid).textContent()).toContain('canary');
    expect(await member(second.cid).locator('.badge').getAttribute('data-status')).toBe('pending');
    expect(await page.getByRole('button', { name: 'Resume wave…' }).isVisible()).toBe(false);

    expect(await confirmThrough(page, 'Pause wave…', 'ok')).toContain('no new member starts');
    await expect.poll(() => badgeOf(page, '#wave-summary').getAttribute('data-status')).toBe('paused');
    expect(await fact('pause')).toContain(`operator by ${CONSOLE_USER}`);
    expect(await confirmThrough(page, 'Resume wave…', 'ok')).toContain(
      'halted and failed members are tried again',
    );
    await expect.poll(() => badgeOf(page, '#wave-summary').getAttribute('data-status')).toBe('running');
    held.release();

    await expect
      .poll(() => badgeOf(page, '#wave-summary').getAttribute('data-status'), { timeout: 90_000 })
      .toBe('completed');
    for (const m of waveTenants) {
      await expect
        .poll(() => member(m.cid).locator('.badge').getAttribute('data-status'))
        .toBe('completed_success');
    }
    expect(await fact('canary')).toContain('gate open');
    await saveScreenshot(page, 'wave');
    // Accessibility basics on the wave page too: named controls, states in words.
    expect(await unnamedControls(page)).toEqual([]);
    for (const b of await page.locator('.badge').all()) {
      expect(await b.locator('.badge-label').textContent()).toBe(
        (await b.getAttribute('data-status'))!.replaceAll('_', ' '),
      );
    }
    const wave = (await stack.api('GET', `/private/notes/waves/${waveId}`)).json;
    expect(await fact('counts')).toBe(`2 members: 2 completed success`);
    expect(await fact('notes')).toContain(`${wave.notes.processed.toLocaleString('en-US')} of`);
    // The shared CRM budget as the API reports it (none here: the test's CRM client is injected
    // and takes no budget slot, so the wave shows that it has none).
    const budget = wave.fleet?.budget ?? null;
    if (budget === null) {
      expect(await fact('budget')).toBe('none: this fleet shares no CRM budget');
      expect(await fact('rate-limited')).toBe('not counted: no shared budget');
    } else {
      expect(await fact('budget')).toContain(`(cap ${budget.cap_per_s.toLocaleString('en-US')}/s`);
      expect(await fact('rate-limited')).toContain(
        `${budget.rate_limited_total.toLocaleString('en-US')} in all`,
      );
    }
    expect(await page.locator('#no-wave-action').textContent()).toBe(
      'No action applies to a completed wave.',
    );

    // A member's run page names the wave that started it, linked.
    await member(second.cid).getByRole('link').click();
    await page.waitForURL('**/private/console/runs/**');
    await page.locator('[data-field-link="wave"]').click();
    await page.waitForURL(`**/private/console/waves/${waveId}`);
    await waitFor(
      () => stack.app.repos.runs.listForCid(second.cid, 1),
      (runs) => runs[0]?.triggered_by === `wave:${waveId}`,
      { what: 'the member run to carry its wave' },
    );
    expect(await tenantsWatch.problems({ allow: blip })).toEqual([]);
    await page.close();
  });
});
