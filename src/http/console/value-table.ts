/**
 * Renders a JSON value of unknown shape as nested definition lists, escaped like every other
 * value: how the console shows the figures a run kind stores for itself (a dry run's forecast,
 * reconcile verdicts, repair and rollback totals) without a page per shape, so a field added by a
 * kind shows up without a console change. Depth and size are bounded.
 */
import { html, type SafeHtml } from './html.js';

const MAX_DEPTH = 4;
const MAX_ENTRIES = 60;

const labelOf = (key: string) => key.replaceAll('_', ' ');

export function renderValue(value: unknown, depth = 0): SafeHtml {
  if (value === null || value === undefined) return html`<span class="none">—</span>`;
  if (value instanceof Date) return html`${value.toISOString()}`;
  if (typeof value === 'number') return html`${value.toLocaleString('en-US', { maximumFractionDigits: 4 })}`;
  if (typeof value === 'string' || typeof value === 'boolean') return html`${String(value)}`;
  if (depth >= MAX_DEPTH) return html`<code>${truncate(JSON.stringify(value))}</code>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return html`<span class="none">none</span>`;
    const shown = value.slice(0, MAX_ENTRIES);
    return html`<ul class="values">
      ${shown.map((v: unknown) => html`<li>${renderValue(v, depth + 1)}</li>`)}${
        value.length > shown.length ? html`<li>… ${value.length - shown.length} more</li>` : ''
      }
    </ul>`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value).slice(0, MAX_ENTRIES);
    if (entries.length === 0) return html`<span class="none">none</span>`;
    return html`<dl class="values">
      ${entries.map(
        ([k, v]) =>
          html`<div>
            <dt>${labelOf(k)}</dt>
            <dd>${renderValue(v, depth + 1)}</dd>
          </div>`,
      )}
    </dl>`;
  }
  return html`${typeof value}`;
}

export function truncate(text: string, maxChars = 400): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}
