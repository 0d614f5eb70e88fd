/**
 * The run page's figures of the run kinds of #14 and its links to the runs and waves a run
 * names (#16), rendered from the fields a run carries: reconcile verdicts, repair and rollback
 * totals, the run a rollback undid and back, the wave that started a run. Pure rendering.
 */
import { describe, expect, it } from 'vitest';

import type { RunDoc } from '../../../../src/db/documents.js';
import { RECONCILE_VERDICTS, type ReconcileVerdict } from '../../../../src/domain.js';
import {
  type ConsoleCapabilities,
  detectConsoleCapabilities,
} from '../../../../src/http/console/console-capabilities.js';
import { renderRunPage } from '../../../../src/http/console/run-page.js';
import { makeRun } from '../../../fixtures/builders.js';
import { HOSTILE_STRINGS } from '../../../fixtures/hostile-strings.js';
import { findActiveMarkup, textOf } from '../../../helpers/page-inertness.js';

const NO_VERDICTS = Object.fromEntries(RECONCILE_VERDICTS.map((v) => [v, 0])) as Record<
  ReconcileVerdict,
  number
>;
const ROLLBACK = { method: 'POST', path: '/private/notes/migration/runs/:run_id/rollback' };
const WAVE = { method: 'GET', path: '/private/notes/waves/:wave_id' };
const TRIGGER = { method: 'POST', path: '/private/notes/migrate' };

function capabilities(routes = [TRIGGER, ROLLBACK, WAVE]): ConsoleCapabilities {
  return detectConsoleCapabilities(
    routes,
    {
      triggered: ['migrate', 'dry_run', 'reconcile', 'repair'],
      resumable: ['migrate', 'dry_run'],
      all: ['migrate', 'dry_run', 'reconcile', 'repair', 'rollback'],
    },
    [],
  );
}

/** A finished run with these fields. */
function runWith(fields: Partial<RunDoc>): RunDoc {
  return makeRun({ status: 'completed_success', finished_at: new Date('2026-01-01T01:00:00Z'), ...fields });
}

function page(run: RunDoc, caps = capabilities()): string {
  return renderRunPage({
    run,
    reasons: [],
    samples: new Map(),
    history: [run],
    forecastPair: null,
    capabilities: caps,
  }).markup;
}

describe('run page: kinds of #14 and waves of #16', () => {
  it('shows reconcile verdicts, repair totals and rollback totals when the run has them', () => {
    const reconcile = page(
      runWith({ kind: 'reconcile', reconcile: { ...NO_VERDICTS, ok: 5, missing: 2, stale: 1 } }),
    );
    expect(reconcile).toContain('<h2 id="figures-reconcile">Reconcile verdicts</h2>');
    expect(textOf(reconcile)).toMatch(/missing\s*2/);
    const repair = page(
      runWith({ kind: 'repair', repair: { inserted: 2, replaced: 1, replace_skipped: 0 } }),
    );
    expect(textOf(repair)).toMatch(/Repair totals[\s\S]*inserted\s*2[\s\S]*replaced\s*1/);
    const plain = page(runWith({}));
    expect(plain).not.toContain('figures-reconcile');
    expect(plain).not.toContain('figures-rollback');
  });

  it('links a rollback run to the run it undid, and that run to its rollback, with no rollback button left', () => {
    const rollback = page(
      runWith({
        _id: 'rb-1',
        kind: 'rollback',
        target_run_id: 'run-1',
        rollback: { notes_deleted: 4, notes_kept: 1, objects_deleted: 3 },
      }),
    );
    expect(rollback).toContain('<a class="mono" href="/private/console/runs/run-1">run-1</a>');
    expect(textOf(rollback)).toMatch(/Rolls back run\s*run-1/);
    expect(textOf(rollback)).toMatch(/Rollback totals[\s\S]*notes deleted\s*4/);
    expect(rollback).not.toContain('data-action="rollback"');

    const undone = page(runWith({ rolled_back_by: 'rb-1' }));
    expect(textOf(undone)).toMatch(/Rolled back by\s*rb-1/);
    expect(undone).not.toContain('data-action="rollback"');
    expect(page(runWith({}))).toContain('data-action="rollback"');
    expect(page(runWith({}), capabilities([TRIGGER]))).not.toContain('data-action="rollback"');
  });

  it('offers resume only for kinds that resume, and rollback only for kinds a rollback undoes', () => {
    const halted = (kind: RunDoc['kind']) => runWith({ kind, status: 'halted' });
    expect(page(halted('migrate'))).toContain('data-action="resume"');
    expect(page(halted('reconcile'))).not.toContain('data-action="resume"');
    expect(page(halted('repair'))).not.toContain('data-action="resume"');
    expect(page(halted('repair'))).toContain('data-action="rollback"');
    expect(page(halted('dry_run'))).not.toContain('data-action="rollback"');
    expect(page(halted('reconcile'))).not.toContain('data-action="rollback"');
    expect(page(runWith({ kind: 'rollback', target_run_id: 'run-0', status: 'failed' }))).not.toMatch(
      /data-action="(resume|rollback)"/,
    );
  });

  it('links the wave that started a run when the service has waves, and names it as text otherwise', () => {
    const run = makeRun({ triggered_by: 'wave:w-42' });
    expect(page(run)).toContain('href="/private/console/waves/w-42"');
    const withoutWaves = page(run, capabilities([TRIGGER]));
    expect(withoutWaves).not.toContain('/private/console/waves/');
    expect(textOf(withoutWaves)).toContain('wave:w-42');
  });

  it('renders hostile run ids and trigger names in those links as text', () => {
    for (const s of HOSTILE_STRINGS) {
      const markup = page(runWith({ target_run_id: s, rolled_back_by: s, triggered_by: `wave:${s}` }));
      expect(findActiveMarkup(markup), s).toEqual([]);
      expect(textOf(markup), s).toContain(s);
    }
  });
});
