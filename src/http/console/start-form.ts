/**
 * The "start a run" form of the console (#17): CID, company, kind and mode, posted by the page's
 * script to `POST /private/notes/migrate` — the same call as `notes-migrator trigger` — after a
 * confirmation that says what the kind will do. Only kinds the trigger accepts are offered.
 */
import type { ConsoleCapabilities } from './console-capabilities.js';
import { html, type SafeHtml } from './html.js';

/** What each kind does, as the confirmation says it (DESIGN.md §11.1). */
export const KIND_EFFECTS: ReadonlyMap<string, string> = new Map([
  [
    'migrate',
    'copies every in-scope CRM note of the tenant into CDP contact_notes and re-hosts attachments in S3',
  ],
  ['dry_run', 'walks every CRM page and forecasts the migration; it writes nothing to contact_notes or S3'],
  ['reconcile', 'compares every CRM note with CDP and records a verdict per note; it writes no note'],
  ['repair', 'inserts missing notes and replaces stale untouched ones; edited notes are left alone'],
]);

export interface StartFormPrefill {
  cid: string;
  companySsoId: string;
}

/**
 * The API's CID and company patterns (`parse-input.ts`) as HTML `pattern` attributes: anchorless
 * (the browser anchors them) and valid under the `v` flag browsers compile them with (`-` escaped).
 * A unit test checks they accept exactly what the API accepts.
 */
export const CID_INPUT_PATTERN = '[1-9][0-9]{0,18}';
export const COMPANY_INPUT_PATTERN = '[A-Za-z0-9][A-Za-z0-9._:@\\-]{0,127}';

export function renderStartForm(
  capabilities: ConsoleCapabilities,
  prefill: StartFormPrefill | null,
): SafeHtml {
  const kinds = capabilities.kinds.filter((k) => KIND_EFFECTS.has(k));
  return html`<section class="panel" aria-labelledby="start-title">
    <h2 id="start-title">${prefill ? 'Start another run of this tenant' : 'Start a run'}</h2>
    <form id="start-form" class="start-form" novalidate>
      <label
        >CID
        <input
          name="cid"
          required
          inputmode="numeric"
          autocomplete="off"
          pattern="${CID_INPUT_PATTERN}"
          value="${prefill?.cid ?? ''}"
      /></label>
      <label
        >Company (company_sso_id)
        <input
          name="company_sso_id"
          required
          autocomplete="off"
          pattern="${COMPANY_INPUT_PATTERN}"
          value="${prefill?.companySsoId ?? ''}"
      /></label>
      <label
        >Kind
        <select name="kind">
          ${kinds.map((k) => html`<option value="${k}" data-effect="${KIND_EFFECTS.get(k) ?? ''}" data-resumable="${capabilities.resumableKinds.includes(k) ? 'true' : 'false'}">${k.replaceAll('_', ' ')}</option>`)}
        </select></label
      >
      <label
        >Mode
        <select name="mode">
          <option value="restart">restart (from page 1)</option>
          <option value="resume">resume (from the last checkpoint)</option>
        </select></label
      >
      ${capabilities.verifyAttachments ? html`<label class="check"><input type="checkbox" name="verify_attachments" value="true" /> Dry run: also download and check attachments (never uploads)</label>` : ''}
      <button type="submit">Start…</button>
    </form>
  </section>`;
}
