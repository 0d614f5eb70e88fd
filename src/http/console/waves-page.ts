/**
 * The console's waves pages (#17, waves from #16): a shell the page's script fills from the waves
 * API (`GET /private/notes/waves/:id` and its stream), so the console depends on that API's JSON,
 * not on how waves are stored. Members, canary gate, stop rule, CRM budget, 429s and throughput are
 * rendered by `assets/waves.js` with text nodes only.
 */
import { type ConsoleCapabilities, fillTemplate, type WaveAction } from './console-capabilities.js';
import { renderPage } from './console-layout.js';
import { CONSOLE_WAVES_PATH } from './console-paths.js';
import { html, type SafeHtml } from './html.js';

/** What each wave action does, as its confirmation says it (#16). */
const WAVE_ACTION_EFFECTS: Readonly<Record<WaveAction, string>> = {
  pause: 'Pause the wave: no new member starts; running members finish their runs.',
  resume:
    'Resume the wave: members that have not started start within its parallel limit, and its halted and failed members are tried again.',
  cancel:
    'Cancel the wave: no new member starts and every running member is cancelled after its current page.',
};

export function renderWavesIndex(capabilities: ConsoleCapabilities): SafeHtml {
  const body = html`<h1>Waves</h1>
    <form class="filters" method="get" action="${CONSOLE_WAVES_PATH}" id="open-wave" aria-label="Open a wave">
      <label>Wave id <input name="wave_id" required maxlength="64" pattern="[A-Za-z0-9_\\-]{1,64}" /></label>
      <button type="submit">Open</button>
    </form>
    <section
      class="panel"
      aria-labelledby="waves-title"
      id="waves"
      data-list="${capabilities.waveListPath ?? ''}"
    >
      <h2 id="waves-title">Recent waves</h2>
      <p id="waves-empty">
        ${capabilities.waveListPath ? 'Loading…' : 'This service lists no waves; open one by its id, or from a tenant whose run a wave triggered.'}
      </p>
      <ul id="wave-list" class="wave-list"></ul>
    </section>`;
  return renderPage({ title: 'Waves', current: 'waves', capabilities, scripts: ['waves.js'], body });
}

export function renderWavePage(waveId: string, capabilities: ConsoleCapabilities): SafeHtml {
  const wavePath = capabilities.wavePath;
  if (wavePath === null) return renderWavesIndex(capabilities);
  const actions = Object.entries(capabilities.waveActions).map(
    ([action, template]) =>
      html`<button
        type="button"
        data-wave-action="${action}"
        data-url="${fillTemplate(template, waveId)}"
        data-confirm="${WAVE_ACTION_EFFECTS[action as WaveAction]}"
      >
        ${action.charAt(0).toUpperCase()}${action.slice(1)} wave…
      </button>`,
  );
  const body = html`<h1>Wave <span class="mono">${waveId}</span></h1>
    <section
      id="wave"
      class="panel"
      aria-label="Wave status"
      data-wave-id="${waveId}"
      data-url="${fillTemplate(wavePath, waveId)}"
      data-stream="${capabilities.waveStreamPath ? fillTemplate(capabilities.waveStreamPath, waveId) : ''}"
    >
      <p id="wave-loading">Loading the wave…</p>
      <div id="wave-summary"></div>
    </section>
    ${
      actions.length > 0
        ? html`<section class="panel actions" aria-labelledby="wave-actions-title">
            <h2 id="wave-actions-title">Actions</h2>
            <p class="buttons">${actions}</p>
            <p id="no-wave-action"></p>
          </section>`
        : ''
    }
    <section class="panel" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <table class="members" id="members">
        <thead>
          <tr>
            <th scope="col">CID</th>
            <th scope="col">Company</th>
            <th scope="col">State</th>
            <th scope="col">Run</th>
            <th scope="col">Progress</th>
            <th scope="col">Notes</th>
            <th scope="col">Notes/s</th>
            <th scope="col">CRM 429s</th>
            <th scope="col">Attempts</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody></tbody>
      </table>
    </section>`;
  return renderPage({ title: `Wave ${waveId}`, current: 'waves', capabilities, scripts: ['waves.js'], body });
}
