/**
 * The forecast on the run page (#17, DESIGN.md §11.3, the dry run of #13): a dry run's predicted
 * figures — outcome, would-halt, coverage, blocked hosts, estimated duration — and, when a real
 * run followed it (or preceded it, on the real run's page), the two side by side, figure by
 * figure and reason code by reason code, with whether each matches.
 */
import type { RunDoc } from '../../db/documents.js';
import { runKindOf } from '../../domain.js';
import { type ForecastView, forecastViewOf } from '../../migration/forecast.js';
import type { ReasonCount } from '../run-routes.js';
import { formatDuration, NO_VALUE, statusLabel } from '../tenant-view.js';
import { definitionList } from './console-layout.js';
import { runPageHref } from './console-paths.js';
import { html, type SafeHtml } from './html.js';

type Figure = string | number | null;

const pct = (v: number | null) => (v === null ? null : `${(v * 100).toFixed(2)} %`);
const count = (n: number) => n.toLocaleString('en-US');

/** The forecast of a dry run, as the dry run's own page shows it. */
export function renderForecast(view: ForecastView): SafeHtml {
  const a = view.attachments;
  const halt = view.would_halt;
  return html`<section class="panel" aria-labelledby="forecast-title" id="forecast">
    <h2 id="forecast-title">Forecast${view.complete ? '' : ' (so far)'}</h2>
    <p>A dry run writes nothing to contact_notes or S3: these are the figures a migration would report.</p>
    ${definitionList([
      [
        'Would end',
        view.terminal_status ? statusLabel(view.terminal_status) : 'known when every page is read',
      ],
      ['Would migrate', count(view.migrated)],
      ['Would skip (already in CDP)', count(view.skipped)],
      ['Out of scope', count(view.out_of_scope)],
      ['Would fail', count(view.failed)],
      ['With warnings', count(view.with_warnings)],
      ['Failure rate', pct(view.failure_rate) ?? NO_VALUE],
      ['Warning rate', pct(view.warning_rate) ?? NO_VALUE],
      ['Match', pct(view.match_pct) ?? NO_VALUE],
      [
        'Would halt',
        halt
          ? `at page ${halt.page} (${halt.trigger.replaceAll('_', ' ')}): ${halt.diagnosis?.hint ?? halt.reason}`
          : 'no',
      ],
      [
        'Contacts found',
        `${count(view.contacts.persons_found)} of ${count(view.contacts.persons_seen)} persons${view.contacts.exact ? '' : ' (estimated)'}`,
      ],
      [
        'Owners',
        `${count(view.owners.by_crm_user_id)} by CRM user id, ${count(view.owners.by_email)} by e-mail, ${count(view.owners.unmapped)} unmapped`,
      ],
      [
        'Attachments',
        `${count(a.would_store)} of ${count(a.declared)} would be stored (${count(a.would_store_bytes)} bytes${a.verified ? ', downloaded and checked' : ', as CRM declares them'}); ${count(a.blocked)} blocked`,
      ],
      [
        'Blocked hosts',
        a.blocked_hosts.length === 0
          ? 'none'
          : html`<ul class="values">
              ${a.blocked_hosts.map((h) => html`<li>${h.host}: ${count(h.count)}</li>`)}
              ${a.blocked_elsewhere > 0 ? html`<li>elsewhere: ${count(a.blocked_elsewhere)}</li>` : ''}
            </ul>`,
      ],
      ['Diagnosis', view.diagnosis ? view.diagnosis.hint : 'no dominant cause'],
      [
        'Estimated duration of the real run',
        view.estimated_duration
          ? `${formatDuration(view.estimated_duration.total_ms / 1000)} (${view.estimated_duration.basis})`
          : 'known when every page is read',
      ],
    ])}
  </section>`;
}

export interface ForecastPair {
  dryRun: RunDoc;
  realRun: RunDoc;
  /** Failure records of the real run by reason code. */
  realReasons: readonly ReasonCount[];
}

/** The forecast and the actual run side by side; null when the dry run has no forecast. */
export function renderForecastComparison(pair: ForecastPair): SafeHtml {
  const forecast = forecastViewOf(pair.dryRun);
  if (!forecast) return html``;
  const real = pair.realRun;
  const actualByReason = new Map(pair.realReasons.map((r) => [r.reason_code as string, r.count]));
  const forecastByReason = new Map<string, number>(
    Object.entries({ ...forecast.failures_by_reason, ...forecast.warnings_by_reason }),
  );
  const codes = [...new Set([...forecastByReason.keys(), ...actualByReason.keys()])].sort();
  const rows: [string, Figure, Figure][] = [
    ['Migrated', forecast.migrated, real.notes_migrated],
    ['Skipped (already in CDP)', forecast.skipped, real.notes_skipped],
    ['Out of scope', forecast.out_of_scope, real.out_of_scope_count],
    ['Failed', forecast.failed, real.notes_failed],
    ['With warnings', forecast.with_warnings, real.notes_with_warnings],
    ['Failure rate', pct(forecast.failure_rate), pct(real.failure_rate)],
    ['Match', pct(forecast.match_pct), pct(real.match_pct)],
    ['Terminal status', forecast.terminal_status, real.status],
    ['Halt page', forecast.would_halt?.page ?? null, real.status === 'halted' ? real.checkpoint.page : null],
    ...codes.map((code): [string, Figure, Figure] => [
      code,
      forecastByReason.get(code) ?? 0,
      actualByReason.get(code) ?? 0,
    ]),
  ];
  const cell = (v: Figure) => (v === null ? NO_VALUE : typeof v === 'number' ? count(v) : v);
  return html`<section class="panel" aria-labelledby="forecast-vs-title">
    <h2 id="forecast-vs-title">Forecast and actual</h2>
    <table class="forecast" id="forecast-vs-actual">
      <caption>
        Dry run
        <a class="mono" href="${runPageHref(pair.dryRun._id)}">${pair.dryRun._id}</a>
        against ${runKindOf(real)} run
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
          // A halt page only exists on halted runs: no halt forecast and no halt is a match.
          const same = f === a || (f !== null && a !== null && String(f) === String(a));
          return html`<tr data-figure="${label}">
            <th scope="row">${label}</th>
            <td>${cell(f)}</td>
            <td>${cell(a)}</td>
            <td data-field="same">${same ? 'yes' : 'no'}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </section>`;
}
