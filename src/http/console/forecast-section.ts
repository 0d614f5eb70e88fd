/**
 * The forecast next to the actual run (#17, DESIGN.md §11.3): a dry run's predicted figures — its
 * own counters, and the outcome it stores in `forecast.outcome` (#13) — beside the real run's,
 * with whether each matches. Either run of the pair may be the page's; the dry run is the one
 * whose kind is `dry_run`.
 */
import type { RunDoc } from '../../db/documents.js';
import { runKindOf } from '../../domain.js';
import { runPageHref } from './console-paths.js';
import { html, type SafeHtml } from './html.js';

type Figure = string | number | null;

/** `forecast.outcome` of a dry run (#13), read without trusting its shape. */
function outcomeOf(dryRun: RunDoc): { status: Figure; matchPct: Figure; haltPage: Figure } {
  const forecast: unknown = Reflect.get(dryRun, 'forecast');
  const outcome: unknown =
    typeof forecast === 'object' && forecast !== null ? Reflect.get(forecast, 'outcome') : null;
  const read = (key: string): Figure => {
    if (typeof outcome !== 'object' || outcome === null) return null;
    const v: unknown = Reflect.get(outcome, key);
    return typeof v === 'number' || typeof v === 'string' ? v : null;
  };
  return { status: read('status'), matchPct: read('match_pct'), haltPage: read('halt_page') };
}

const pct = (v: Figure) => (typeof v === 'number' ? `${(v * 100).toFixed(2)} %` : v);

export function renderForecastComparison(pageRun: RunDoc, counterpart: RunDoc): SafeHtml {
  const isDry = (r: RunDoc) => String(runKindOf(r)) === 'dry_run';
  const dry = isDry(pageRun) ? pageRun : counterpart;
  const real = isDry(pageRun) ? counterpart : pageRun;
  const outcome = outcomeOf(dry);
  const rows: [string, Figure, Figure][] = [
    ['Migrated', dry.notes_migrated, real.notes_migrated],
    ['Skipped (already in CDP)', dry.notes_skipped, real.notes_skipped],
    ['Out of scope', dry.out_of_scope_count, real.out_of_scope_count],
    ['Failed', dry.notes_failed, real.notes_failed],
    ['With warnings', dry.notes_with_warnings, real.notes_with_warnings],
    ['Failure rate', pct(dry.failure_rate), pct(real.failure_rate)],
    ['Match', pct(outcome.matchPct), pct(real.match_pct)],
    ['Terminal status', outcome.status, real.status],
    ['Halt page', outcome.haltPage, real.status === 'halted' ? real.checkpoint.page : null],
  ];
  const cell = (v: Figure) => (v === null ? '—' : typeof v === 'number' ? v.toLocaleString('en-US') : v);
  return html`<section class="panel" aria-labelledby="forecast-title">
    <h2 id="forecast-title">Forecast and actual</h2>
    <table class="forecast" id="forecast-vs-actual">
      <caption>
        Dry run
        <a class="mono" href="${runPageHref(dry._id)}">${dry._id}</a>
        against ${String(runKindOf(real))} run
        <a class="mono" href="${runPageHref(real._id)}">${real._id}</a>
      </caption>
      <thead>
        <tr>
          <th scope="col">Figure</th>
          <th scope="col">Forecast</th>
          <th scope="col">Actual</th>
          <th scope="col">Same</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(([label, f, a]) => {
          const same = f === null || a === null ? null : String(f) === String(a);
          return html`<tr>
            <th scope="row">${label}</th>
            <td>${cell(f)}</td>
            <td>${cell(a)}</td>
            <td>${same === null ? '—' : same ? 'yes' : 'no'}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </section>`;
}
