/**
 * The page shell every console page shares (#17): head with the stylesheet and module scripts
 * (files of ours, never inline: the CSP allows `'self'` only), the navigation, the live-state
 * indicator and the confirmation dialog the actions use. Also the small pieces several pages
 * render the same way: status badges and progress bars.
 */
import type { ConsoleCapabilities } from './console-capabilities.js';
import { CONSOLE_ASSETS_PATH, CONSOLE_PATH, CONSOLE_WAVES_PATH } from './console-paths.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';

export interface PageOptions {
  title: string;
  /** Which navigation entry is the current page. */
  current: 'tenants' | 'run' | 'waves';
  capabilities: ConsoleCapabilities;
  /** Module scripts of `assets/` this page loads. */
  scripts: readonly string[];
  body: SafeHtml;
}

/** The symbol shown next to a status word; the word itself is the meaning. */
const STATUS_SYMBOLS: ReadonlyMap<string, string> = new Map([
  ['in_progress', '▶'],
  ['completed_success', '✔'],
  ['completed_with_errors', '⚠'],
  ['halted', '⏸'],
  ['failed', '✖'],
  ['cancelled', '■'],
  ['not_started', '○'],
]);

export function statusBadge(status: string, label: string): SafeHtml {
  return html`<span class="badge badge-${status}" data-status="${status}"
    ><span class="badge-symbol" aria-hidden="true">${STATUS_SYMBOLS.get(status) ?? '•'}</span>
    <span class="badge-label">${label}</span></span
  >`;
}

export function progressBar(pct: number, text: string, accessibleName: string): SafeHtml {
  return html`<span class="progress"
    ><progress max="100" value="${pct}" aria-label="${accessibleName}">${text}</progress>
    <span class="progress-text" data-field="progress">${text}</span></span
  >`;
}

/** A definition list of label → value rows; values are escaped like everything else. */
export function definitionList(rows: readonly [string, HtmlValue][], className = 'facts'): SafeHtml {
  return html`<dl class="${className}">
    ${rows.map(
      ([term, value]) =>
        html`<div>
          <dt>${term}</dt>
          <dd>${value}</dd>
        </div>`,
    )}
  </dl>`;
}

export function renderPage(options: PageOptions): SafeHtml {
  const nav = (key: PageOptions['current'], href: string, label: string) =>
    html`<li>
      <a href="${href}" ${options.current === key ? html` aria-current="page"` : ''}>${label}</a>
    </li>`;
  const waves = options.capabilities.wavePath !== null;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${options.title} · notes migration console</title>
        <link rel="icon" href="${CONSOLE_ASSETS_PATH}/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="${CONSOLE_ASSETS_PATH}/console.css" />
        ${options.scripts.map((s) => html`<script type="module" src="${CONSOLE_ASSETS_PATH}/${s}"></script>`)}
      </head>
      <body>
        <header class="top">
          <p class="brand">Notes migration console</p>
          <nav aria-label="Console">
            <ul>
              ${nav('tenants', CONSOLE_PATH, 'Tenants')}${waves ? nav('waves', CONSOLE_WAVES_PATH, 'Waves') : ''}
            </ul>
          </nav>
          <p class="live" id="live-state" role="status" aria-live="polite" data-state="static">not live</p>
        </header>
        <main id="main">${options.body}</main>
        <dialog id="confirm-dialog" aria-labelledby="confirm-title">
          <form method="dialog">
            <h2 id="confirm-title">Confirm</h2>
            <div id="confirm-text"></div>
            <p class="dialog-buttons">
              <button type="submit" value="cancel" id="confirm-cancel">Cancel</button>
              <button type="submit" value="ok" id="confirm-ok">Confirm</button>
            </p>
          </form>
        </dialog>
        <p id="action-result" class="action-result" role="status" aria-live="polite"></p>
      </body>
    </html> `;
}
