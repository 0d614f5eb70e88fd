/**
 * The console's run page (#17): counters and closure, halt diagnosis, the forecast next to the
 * actual run, the kind's own figures (reconcile verdicts, repair and rollback totals), failures by
 * reason as a chart and a table with the first records and export links, the audit stamp, the
 * page timeline, the tenant's other runs and the actions the API offers for this run.
 */
import type { RunDoc } from '../../db/documents.js';
import { isTerminalStatus, runKindOf } from '../../domain.js';
import { forecastViewOf } from '../../migration/forecast.js';
import { runKindPolicy } from '../../migration/run-kinds.js';
import type { FailureView } from '../failure-routes.js';
import type { ReasonCount } from '../run-routes.js';
import { TENANTS_STREAM_PATH } from '../tenant-routes.js';
import { formatTime, NO_VALUE, statusLabel, type TenantItem, toTenantItem } from '../tenant-view.js';
import { type ConsoleCapabilities, fillTemplate } from './console-capabilities.js';
import { definitionList, progressBar, renderPage, statusBadge } from './console-layout.js';
import { CONSOLE_PATH, runPageHref, wavePageHref } from './console-paths.js';
import { type ForecastPair, renderForecast, renderForecastComparison } from './forecast-section.js';
import { hrefOf, html, type SafeHtml } from './html.js';
import { KIND_EFFECTS, renderStartForm } from './start-form.js';
import { ratePointsOf, renderBarChart, renderRateChart } from './svg-charts.js';
import { renderValue, truncate } from './value-table.js';

export interface RunPageData {
  run: RunDoc;
  reasons: readonly ReasonCount[];
  /** The first records of each reason code. */
  samples: ReadonlyMap<string, readonly FailureView[]>;
  /** The tenant's runs, newest first. */
  history: readonly RunDoc[];
  /** The dry run and the real run that followed it, when this run is one of them. */
  forecastPair: ForecastPair | null;
  capabilities: ConsoleCapabilities;
}

/** Fields some kinds store on their run (#14), shown when present. */
const KIND_FIGURES = [
  ['reconcile', 'Reconcile verdicts'],
  ['repair', 'Repair totals'],
  ['rollback', 'Rollback totals'],
] as const;

export function renderRunPage(data: RunPageData): SafeHtml {
  const { run } = data;
  const item = toTenantItem(run);
  const latest = data.history[0]?._id === run._id;
  const live = latest && !isTerminalStatus(run.status);
  const forecast = forecastViewOf(run);
  const body = html`<p class="crumbs">
      <a href="${hrefOf(CONSOLE_PATH, { q: run.cid })}">Tenant ${run.cid}</a> · company ${run.company_sso_id}
    </p>
    <h1>Run <span class="mono">${run._id}</span></h1>
    <section
      id="run"
      class="panel run-head"
      aria-label="Run status"
      data-run-id="${run._id}"
      data-cid="${run.cid}"
      data-company="${run.company_sso_id}"
      data-kind="${runKindOf(run)}"
      data-status="${run.status}"
      data-live="${live ? 'true' : 'false'}"
      data-stream="${TENANTS_STREAM_PATH}"
    >
      <p>
        <span data-field="status-cell">${statusBadge(run.status, item.display.status)}</span>
        <span class="kind">${runKindOf(run).replaceAll('_', ' ')} run, mode ${run.mode}</span
        >${latest ? '' : html` · <a href="${runPageHref(data.history[0]?._id ?? run._id)}">a newer run of this tenant exists</a>`}
      </p>
      <p>${progressBar(run.progress_pct, item.display.progress, `Progress of run ${run._id}`)}</p>
      ${renderCounters(item, run)}
    </section>
    ${renderActions(data)} ${renderProblems(run)} ${forecast ? renderForecast(forecast) : ''}
    ${data.forecastPair ? renderForecastComparison(data.forecastPair) : ''}
    ${KIND_FIGURES.map(([field, title]) => renderKindFigures(run, field, title))} ${renderFailures(data)}
    ${renderClosure(run)} ${renderTimeline(run)} ${renderAudit(run, data.capabilities)} ${renderHistory(data)}`;
  return renderPage({
    title: `Run ${run._id}`,
    current: 'run',
    capabilities: data.capabilities,
    scripts: ['run.js'],
    body,
  });
}

function renderCounters(item: TenantItem, run: RunDoc): SafeHtml {
  const d = item.display;
  const field = (name: string, value: string) => html`<span data-field="${name}">${value}</span>`;
  return definitionList(
    [
      ['Notes processed / total', field('notes', d.notes)],
      ['Migrated', field('migrated', d.migrated)],
      ['Skipped (already in CDP)', field('skipped', d.skipped)],
      ['Failed', field('failed', d.failed)],
      ['Out of scope', field('out_of_scope', d.out_of_scope)],
      ['With warnings', run.notes_with_warnings.toLocaleString('en-US')],
      ['Failure rate', field('failure_rate', d.failure_rate)],
      ['Match', field('match', d.match)],
      ['Notes/s (recent pages)', field('rate', d.rate)],
      ['Notes/s (whole run)', averageRate(run)],
      ['Time left', field('eta', d.eta)],
      ['Page', `${run.checkpoint.page} of ${run.checkpoint.total_pages ?? '?'}`],
      ['Started', formatTime(run.started_at?.toISOString() ?? null)],
      ['Last update', field('updated', d.updated)],
      ['Finished', formatTime(run.finished_at?.toISOString() ?? null)],
      [
        'Resumed from',
        run.resumed_from_run_id
          ? html`<a href="${runPageHref(run.resumed_from_run_id)}">${run.resumed_from_run_id}</a>`
          : NO_VALUE,
      ],
      ...linkedRuns(run),
    ],
    'facts counters',
  );
}

/** The run a rollback undid, and the rollback that undid a run (#14), when there is one. */
function linkedRuns(run: RunDoc): [string, SafeHtml][] {
  const rows: [string, SafeHtml][] = [];
  const link = (id: string) => html`<a class="mono" href="${runPageHref(id)}">${id}</a>`;
  if (run.target_run_id) rows.push(['Rolls back run', link(run.target_run_id)]);
  if (run.rolled_back_by) rows.push(['Rolled back by', link(run.rolled_back_by)]);
  return rows;
}

/** Notes processed per second from the start to the last update (or the end). */
function averageRate(run: RunDoc): string {
  if (!run.started_at) return NO_VALUE;
  const seconds = ((run.finished_at ?? run.updated_at).getTime() - run.started_at.getTime()) / 1000;
  return seconds > 0 ? `${(run.notes_processed / seconds).toFixed(1)} notes/s` : NO_VALUE;
}

function renderProblems(run: RunDoc): SafeHtml {
  const d = run.halt_diagnosis ?? null;
  if (run.halt_reason === null && run.error === null && d === null) return html``;
  return html`<section class="panel problem" aria-labelledby="problem-title">
    <h2 id="problem-title">Why it stopped</h2>
    ${d ? html`<p class="hint" id="halt-hint">${d.hint}</p>` : ''}
    ${definitionList([
      ['Halt reason', run.halt_reason ?? NO_VALUE],
      ['Error', run.error ? `${run.error.code}: ${run.error.message}` : NO_VALUE],
      ...(d
        ? ([
            ['Dominant cause', `${d.reason_code}${d.systemic ? ' (systemic)' : ''}`],
            ['Its share', `${(d.share * 100).toFixed(1)} % (${d.count.toLocaleString('en-US')})`],
            ['Sample note ids', d.sample_note_ids.length > 0 ? d.sample_note_ids.join(', ') : NO_VALUE],
          ] as [string, string][])
        : []),
    ])}
  </section>`;
}

function renderKindFigures(run: RunDoc, field: string, title: string): SafeHtml {
  const value: unknown = Reflect.get(run, field);
  if (value === undefined || value === null) return html``;
  return html`<section class="panel" aria-labelledby="figures-${field}">
    <h2 id="figures-${field}">${title}</h2>
    ${renderValue(value)}
  </section>`;
}

function exportHref(run: RunDoc, format: 'csv' | 'ndjson', reasonCode?: string): string {
  return hrefOf('/private/notes/migration/failures', {
    cid: run.cid,
    run_id: run._id,
    reason_code: reasonCode,
    format,
  });
}

function renderFailures(data: RunPageData): SafeHtml {
  const { run, reasons } = data;
  const total = reasons.reduce((n, r) => n + r.count, 0);
  const exports = html`<p class="exports">
    Export every record of this run: <a href="${exportHref(run, 'csv')}" download data-export="csv">CSV</a> ·
    <a href="${exportHref(run, 'ndjson')}" download data-export="ndjson">NDJSON</a>
  </p>`;
  if (reasons.length === 0) {
    return html`<section class="panel" aria-labelledby="failures-title">
      <h2 id="failures-title">Failures by reason</h2>
      <p id="no-failures">No failure or warning recorded for this run.</p>
      ${exports}
    </section>`;
  }
  const chart = renderBarChart(
    `Failure records by reason code (${total} in all)`,
    reasons.map((r) => ({ label: r.reason_code, value: r.count, category: r.severity })),
  );
  const rows = reasons.map((r) => {
    const samples = data.samples.get(r.reason_code) ?? [];
    return html`<tr data-reason="${r.reason_code}">
      <th scope="row">${r.reason_code}</th>
      <td>${r.severity}</td>
      <td class="num" data-field="reason-count">${r.count}</td>
      <td>
        <ul class="samples">
          ${samples.map(
            (s) =>
              html`<li>
                <span class="mono">${s.legacy_crm_note_id ?? '(run)'}</span>
                <code>${truncate(JSON.stringify(s.details), 300)}</code>
              </li>`,
          )}
        </ul>
      </td>
      <td>
        <a href="${exportHref(run, 'csv', r.reason_code)}" download>CSV</a> ·
        <a href="${exportHref(run, 'ndjson', r.reason_code)}" download>NDJSON</a>
      </td>
    </tr>`;
  });
  return html`<section class="panel" aria-labelledby="failures-title">
    <h2 id="failures-title">Failures by reason</h2>
    ${chart}
    <table class="reasons" id="reasons">
      <caption>
        Failure records by reason code, with the first records of each
      </caption>
      <thead>
        <tr>
          <th scope="col">Reason code</th>
          <th scope="col">Severity</th>
          <th scope="col">Records</th>
          <th scope="col">First records (note id, details)</th>
          <th scope="col">Export</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${exports}
  </section>`;
}

function renderClosure(run: RunDoc): SafeHtml {
  const c = run.closure;
  return html`<section class="panel" aria-labelledby="closure-title">
    <h2 id="closure-title">Closure</h2>
    ${
      c
        ? definitionList([
            [
              'Balanced',
              c.balanced ? 'yes: every note is in one bucket' : 'no: some notes are unaccounted for',
            ],
            ['Notes total', c.notes_total ?? NO_VALUE],
            ['Accounted (migrated + skipped + out of scope + failed)', c.accounted],
            ['Unaccounted', c.unaccounted_count],
            [
              'Unaccounted ids (sample)',
              c.unaccounted_ids.length > 0 ? c.unaccounted_ids.join(', ') : NO_VALUE,
            ],
          ])
        : html`<p>Computed when the run ends.</p>`
    }
  </section>`;
}

function renderTimeline(run: RunDoc): SafeHtml {
  const points = ratePointsOf(
    run.page_timeline ?? [],
    run.started_at,
    run.mode === 'restart' && run.resumed_from_run_id === null ? 0 : null,
  );
  return html`<section class="panel" aria-labelledby="timeline-title">
    <h2 id="timeline-title">Page timeline</h2>
    ${
      points.length === 0
        ? html`<p>No page committed yet.</p>`
        : html`${renderRateChart(`Notes per second over ${points.length} pages`, points)}
            <details>
              <summary>Pages as a table</summary>
              <table class="timeline">
                <thead>
                  <tr>
                    <th scope="col">Page</th>
                    <th scope="col">Committed</th>
                    <th scope="col">Notes processed</th>
                  </tr>
                </thead>
                <tbody>
                  ${(run.page_timeline ?? []).map(
                    (p) =>
                      html`<tr>
                        <td>${p.page}</td>
                        <td>${formatTime(p.at.toISOString())}</td>
                        <td class="num">${p.notes_processed}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </details>`
    }
  </section>`;
}

/** A wave names itself as `wave:<id>` in `triggered_by` (#16): linked to its page when there is one. */
const WAVE_TRIGGER = /^wave:([A-Za-z0-9_-]{1,64})$/;

function triggeredBy(run: RunDoc, caps: ConsoleCapabilities): SafeHtml | string {
  const wave = WAVE_TRIGGER.exec(run.triggered_by ?? '')?.[1];
  if (wave === undefined || caps.wavePath === null) return run.triggered_by ?? NO_VALUE;
  return html`wave <a class="mono" href="${wavePageHref(wave)}" data-field-link="wave">${wave}</a>`;
}

function renderAudit(run: RunDoc, caps: ConsoleCapabilities): SafeHtml {
  const c = run.config;
  return html`<section class="panel" aria-labelledby="audit-title">
    <h2 id="audit-title">Audit stamp</h2>
    ${definitionList([
      ['Triggered by', triggeredBy(run, caps)],
      ['Worker', run.owner ?? NO_VALUE],
      ['Service version', c?.service_version ?? NO_VALUE],
      [
        'Sanitizer policy (SHA-256)',
        c ? html`<span class="mono">${c.sanitizer_policy_sha256}</span>` : NO_VALUE,
      ],
      ['Attachment hosts', c ? c.attachment_hosts.join(', ') || 'none (all blocked)' : NO_VALUE],
      ['Note types', c ? c.note_type_allowlist.join(', ') : NO_VALUE],
      ['Page size', c?.page_size ?? NO_VALUE],
      ['Max failure rate', c ? `${(c.max_failure_rate * 100).toFixed(2)} %` : NO_VALUE],
      ['Match threshold', c ? `${(c.match_pct_threshold * 100).toFixed(2)} %` : NO_VALUE],
    ])}
  </section>`;
}

function renderHistory(data: RunPageData): SafeHtml {
  return html`<section class="panel" aria-labelledby="history-title">
    <h2 id="history-title">Runs of tenant ${data.run.cid}</h2>
    <table class="history">
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Kind</th>
          <th scope="col">Mode</th>
          <th scope="col">Status</th>
          <th scope="col">Created</th>
          <th scope="col">Triggered by</th>
        </tr>
      </thead>
      <tbody>
        ${data.history.map(
          (r) =>
            html`<tr${r._id === data.run._id ? html` aria-current="true"` : ''}><td><a class="mono" href="${runPageHref(r._id)}">${r._id}</a></td><td>${runKindOf(r)}</td><td>${r.mode}</td><td>${statusBadge(r.status, statusLabel(r.status))}</td><td>${formatTime(r.created_at.toISOString())}</td><td>${r.triggered_by ?? NO_VALUE}</td></tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function renderActions(data: RunPageData): SafeHtml {
  const { run, capabilities: caps } = data;
  const kind = runKindOf(run);
  const terminal = isTerminalStatus(run.status);
  const latest = data.history[0]?._id === run._id;
  const buttons: SafeHtml[] = [];
  if (caps.cancel && run.status === 'in_progress') {
    buttons.push(
      html`<button
        type="button"
        data-action="cancel"
        data-confirm="Cancel the ${kind} run of CID ${run.cid}: the worker stops after its current page. What it already wrote stays; resume continues from the checkpoint."
      >
        Cancel run…
      </button>`,
    );
  }
  const resumable =
    terminal && run.status !== 'completed_success' && latest && caps.resumableKinds.includes(kind);
  if (resumable) {
    buttons.push(
      html`<button
        type="button"
        data-action="resume"
        data-kind="${kind}"
        data-confirm="Resume the ${kind} run of CID ${run.cid} from page ${run.checkpoint.page + 1} (its last checkpoint). A resumed ${kind} run ${KIND_EFFECTS.get(kind) ?? ''}."
      >
        Resume from page ${run.checkpoint.page + 1}…
      </button>`,
    );
  }
  if (caps.rollbackPath && terminal && runKindPolicy(kind).canBeRolledBack && !run.rolled_back_by) {
    buttons.push(
      html`<button
        type="button"
        data-action="rollback"
        data-url="${fillTemplate(caps.rollbackPath, run._id)}"
      >
        Preview rollback…
      </button>`,
    );
  }
  const start =
    caps.migrate || caps.dryRun
      ? renderStartForm(caps, { cid: run.cid, companySsoId: run.company_sso_id })
      : '';
  const panel =
    buttons.length === 0
      ? ''
      : html`<section class="panel actions" aria-labelledby="actions-title">
          <h2 id="actions-title">Actions</h2>
          <p class="buttons">${buttons}</p>
          <div id="rollback-preview" class="rollback-preview" hidden></div>
        </section>`;
  return html`${panel}${start}`;
}
