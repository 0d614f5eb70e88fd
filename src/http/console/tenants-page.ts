/**
 * The console's tenants page (#17): every CID with a run, by its latest run, one server-side
 * page at a time, with filters, search, the start-a-run form and a row template the page's script
 * fills for CIDs that get their first run while it is open. Cells carry `data-field` names the
 * script updates from the tenants stream (`display` of each item), so live and rendered figures
 * are formatted by the same code.
 */
import { RUN_STATUSES } from '../../domain.js';
import {
  TENANT_SORTS,
  type TenantListBody,
  TENANTS_STREAM_PATH,
  type TenantsQuery,
} from '../tenant-routes.js';
import { statusLabel, type TenantItem } from '../tenant-view.js';
import type { ConsoleCapabilities } from './console-capabilities.js';
import { progressBar, renderPage, statusBadge } from './console-layout.js';
import { CONSOLE_PATH, runPageHref } from './console-paths.js';
import { hrefOf, html, type SafeHtml } from './html.js';
import { renderStartForm } from './start-form.js';

/** Rows a console page may show: one tenants stream follows at most this many CIDs. */
export const CONSOLE_PAGE_SIZES = [25, 50, 100] as const;

const COLUMNS = [
  'CID',
  'Company',
  'Kind',
  'Status',
  'Progress',
  'Notes',
  'Notes/s',
  'ETA',
  'Failure rate',
  'Match',
  'Last update',
  'Hint',
] as const;

export function renderTenantsPage(
  list: TenantListBody,
  query: TenantsQuery,
  capabilities: ConsoleCapabilities,
): SafeHtml {
  const body = html`<h1>Tenants</h1>
    ${capabilities.migrate || capabilities.dryRun ? renderStartForm(capabilities, null) : ''}
    ${renderFilters(list, query, capabilities)} ${renderSummary(list, query)}
    <div class="table-wrap">
      <table id="tenants" class="tenants" data-stream="${TENANTS_STREAM_PATH}">
        <caption>
          Latest run of each
          tenant${query.status ? html`, status ${statusLabel(query.status)}` : ''}${query.q ? html`, matching “${query.q}”` : ''}
        </caption>
        <thead>
          <tr>
            ${COLUMNS.map((c) => html`<th scope="col">${c}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${list.items.map(renderRow)}
        </tbody>
      </table>
    </div>
    ${list.items.length === 0 ? html`<p class="empty" id="no-tenants">No tenant matches. ${capabilities.migrate ? 'Start a run above.' : ''}</p>` : ''}
    <template id="tenant-row-template">${renderRow(null)}</template>
    ${renderPager(list, query)}`;
  return renderPage({
    title: 'Tenants',
    current: 'tenants',
    capabilities,
    scripts: ['tenants.js'],
    body,
  });
}

/** One tenant row; `null` renders the blank template the script clones. */
export function renderRow(item: TenantItem | null): SafeHtml {
  const d = item?.display;
  const cid = item?.cid ?? '';
  return html`<tr data-cid="${cid}" data-run-id="${item?.run_id ?? ''}">
    <th scope="row"><a data-field-link="run" href="${item ? runPageHref(item.run_id) : '#'}">${cid}</a></th>
    <td data-field="company">${item?.company_sso_id ?? ''}</td>
    <td data-field="kind">${item?.kind ?? ''}</td>
    <td data-field="status-cell">
      ${statusBadge(item?.status ?? 'not_started', d?.status ?? 'not started')}
    </td>
    <td>${progressBar(item?.progress_pct ?? 0, d?.progress ?? '0.0 %', `Progress of CID ${cid}`)}</td>
    <td data-field="notes">${d?.notes ?? ''}</td>
    <td data-field="rate">${d?.rate ?? ''}</td>
    <td data-field="eta">${d?.eta ?? ''}</td>
    <td data-field="failure_rate">${d?.failure_rate ?? ''}</td>
    <td data-field="match">${d?.match ?? ''}</td>
    <td data-field="updated">${d?.updated ?? ''}</td>
    <td data-field="hint" class="hint">${item?.hint ?? ''}</td>
  </tr>`;
}

function renderFilters(
  list: TenantListBody,
  query: TenantsQuery,
  capabilities: ConsoleCapabilities,
): SafeHtml {
  const total = Object.values(list.counts_by_status).reduce((a, b) => a + b, 0);
  const option = (value: string, label: string, selected: boolean) =>
    html`<option value="${value}" ${selected ? html` selected` : ''}>${label}</option>`;
  return html`<form
    class="filters"
    method="get"
    action="${CONSOLE_PATH}"
    role="search"
    aria-label="Filter tenants"
  >
    <label
      >Search CID or company
      <input
        type="search"
        name="q"
        value="${query.q ?? ''}"
        maxlength="128"
        pattern="[A-Za-z0-9._:@\\-]{1,128}"
    /></label>
    <label
      >Status
      <select name="status">
        ${option('', `any (${total})`, query.status === undefined)}${RUN_STATUSES.map((s) =>
          option(s, `${statusLabel(s)} (${list.counts_by_status[s] ?? 0})`, query.status === s),
        )}
      </select></label
    >
    <label
      >Kind
      <select name="kind">
        ${option('', 'any', query.kind === undefined)}${capabilities.listedKinds.map((k) => option(k, k, query.kind === k))}
      </select></label
    >
    <label
      >Sort
      <select name="sort">
        ${TENANT_SORTS.map((s) => option(s, s === 'cid' ? 'by CID' : 'most recent update first', (query.sort ?? 'cid') === s))}
      </select></label
    >
    <label
      >Rows
      <select name="limit">
        ${CONSOLE_PAGE_SIZES.map((n) => option(String(n), String(n), list.limit === n))}
      </select></label
    >
    <button type="submit">Apply</button>
  </form>`;
}

function renderSummary(list: TenantListBody, query: TenantsQuery): SafeHtml {
  const link = (status: string | undefined, label: string) =>
    html`<a href="${hrefOf(CONSOLE_PATH, { ...filterParams(query), status, page: undefined })}">${label}</a>`;
  const chips = RUN_STATUSES.filter((s) => (list.counts_by_status[s] ?? 0) > 0).map(
    (s) => html`<li>${link(s, `${statusLabel(s)}: ${list.counts_by_status[s] ?? 0}`)}</li>`,
  );
  return html`<p class="summary" id="tenant-count">
      ${list.total.toLocaleString('en-US')} tenant${list.total === 1 ? '' : 's'}
    </p>
    ${
      chips.length > 0
        ? html`<ul class="chips" aria-label="Tenants by status">
            ${chips}
            <li>${link(undefined, 'all')}</li>
          </ul>`
        : ''
    }`;
}

function filterParams(query: TenantsQuery): Record<string, string | undefined> {
  return { q: query.q, status: query.status, kind: query.kind, sort: query.sort, limit: String(query.limit) };
}

function renderPager(list: TenantListBody, query: TenantsQuery): SafeHtml {
  if (list.pages <= 1) return html``;
  const to = (page: number, label: string, rel: string) =>
    html`<a rel="${rel}" href="${hrefOf(CONSOLE_PATH, { ...filterParams(query), page: String(page) })}"
      >${label}</a
    >`;
  return html`<nav class="pager" aria-label="Pages">
    ${list.page > 1 ? to(list.page - 1, 'Previous page', 'prev') : ''}
    <span>Page ${list.page} of ${list.pages}</span>
    ${list.page < list.pages ? to(list.page + 1, 'Next page', 'next') : ''}
  </nav>`;
}
