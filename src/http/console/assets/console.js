// The console's shared browser code (#17): calls to the service's JSON API (same origin, so the
// CSRF guard sees this page's Origin), the confirmation dialog, the live tenants stream with a
// "reconnecting" indicator, and filling a row or panel from a tenant item. Text only: every value
// goes in with textContent or an attribute, never as markup.

/**
 * A status as its symbol; the word next to it carries the meaning (never colour alone). Run
 * statuses, and the states of waves and their members (#16).
 */
const STATUS_SYMBOLS = {
  in_progress: '▶',
  completed_success: '✔',
  completed_with_errors: '⚠',
  halted: '⏸',
  failed: '✖',
  cancelled: '■',
  not_started: '○',
  running: '▶',
  paused: '⏸',
  cancelling: '■',
  completed: '✔',
  pending: '○',
  starting: '▷',
  skipped: '↷',
};

const TERMINAL = new Set(['halted', 'failed', 'cancelled', 'completed_success', 'completed_with_errors']);

export const isTerminal = (status) => TERMINAL.has(status);

/** The console's own page of a run: a path of ours with the id encoded, never a URL from data. */
export const runPageHref = (runId) => `/private/console/runs/${encodeURIComponent(runId)}`;

/** Calls the API; resolves `{ok, status, body}` (body parsed when JSON), rejects only when unreachable. */
export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers:
      body === undefined
        ? { accept: 'application/json' }
        : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let parsed;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  return { ok: response.ok, status: response.status, body: parsed };
}

/** `409 ALREADY_MIGRATED: The latest run…` from an error answer. */
export function describeRefusal(result) {
  const code = result.body && typeof result.body.error === 'string' ? ` ${result.body.error}` : '';
  const message = result.body && typeof result.body.message === 'string' ? `: ${result.body.message}` : '';
  return `Refused (HTTP ${result.status}${code})${message}`;
}

/** A status badge like the server renders (`statusBadge` in console-layout.ts): symbol and word. */
export function statusBadgeElement(status, text) {
  const badge = document.createElement('span');
  badge.className = `badge badge-${status}`;
  badge.dataset.status = status;
  const symbol = document.createElement('span');
  symbol.className = 'badge-symbol';
  symbol.setAttribute('aria-hidden', 'true');
  symbol.textContent = STATUS_SYMBOLS[status] ?? '•';
  const word = document.createElement('span');
  word.className = 'badge-label';
  word.textContent = text;
  badge.append(symbol, ' ', word);
  return badge;
}

function setText(element, text) {
  if (element) element.textContent = text;
}

/**
 * Asks before acting: the dialog states what will happen (`lines`, one paragraph each) and
 * resolves true only for the confirm button.
 */
export function confirmAction(title, lines, confirmLabel) {
  const dialog = document.getElementById('confirm-dialog');
  setText(document.getElementById('confirm-title'), title);
  const text = document.getElementById('confirm-text');
  text.replaceChildren(
    ...lines.map((line) => {
      const p = document.createElement('p');
      p.textContent = line;
      return p;
    }),
  );
  setText(document.getElementById('confirm-ok'), confirmLabel);
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

/** Shows what an action did, with an optional link to the run it started. */
export function showResult(text, link) {
  const out = document.getElementById('action-result');
  out.replaceChildren(document.createTextNode(text));
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.label;
    out.append(' ', a);
  }
}

/** The live-state indicator: `live`, `reconnecting`, or `not live`. */
export function setLiveState(state) {
  const el = document.getElementById('live-state');
  if (!el) return;
  el.dataset.state = state;
  el.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : 'not live';
}

/**
 * Follows the tenants stream for `cids`: `onItem` gets each tenant item as it changes. The
 * browser reconnects by itself with Last-Event-ID (the server then resends only what changed);
 * while it is cut off the page says "reconnecting". Returns a function that closes the stream.
 */
export function followTenants(streamPath, cids, onItem) {
  if (cids.length === 0) {
    setLiveState('static');
    return () => {};
  }
  let source;
  let closed = false;
  let retryTimer;
  const open = () => {
    source = new EventSource(`${streamPath}?cids=${cids.map(encodeURIComponent).join(',')}`);
    source.addEventListener('open', () => setLiveState('live'));
    source.addEventListener('tenant', (event) => {
      setLiveState('live');
      onItem(JSON.parse(event.data));
    });
    source.addEventListener('error', () => {
      if (closed) return;
      setLiveState('reconnecting');
      // CLOSED: the server refused the stream (not a blip); try again from scratch later.
      if (source.readyState === EventSource.CLOSED) retryTimer = setTimeout(open, 5000);
    });
  };
  open();
  return () => {
    closed = true;
    clearTimeout(retryTimer);
    source.close();
    setLiveState('static');
  };
}

/** Fills the `data-field` cells under `root` from a tenant item (the server formatted them). */
export function fillFields(root, item) {
  for (const [name, value] of Object.entries(item.display)) {
    for (const el of root.querySelectorAll(`[data-field="${name}"]`)) el.textContent = value;
  }
  const progress = root.querySelector('progress');
  if (progress) {
    progress.value = item.progress_pct;
    progress.textContent = item.display.progress;
  }
  const badge = root.querySelector('[data-field="status-cell"] .badge');
  if (badge) {
    badge.className = `badge badge-${item.status}`;
    badge.dataset.status = item.status;
    setText(badge.querySelector('.badge-symbol'), STATUS_SYMBOLS[item.status] ?? '•');
    setText(badge.querySelector('.badge-label'), item.display.status);
  }
  for (const [name, value] of [
    ['company', item.company_sso_id],
    ['kind', item.kind],
    ['hint', item.hint ?? ''],
  ]) {
    for (const el of root.querySelectorAll(`[data-field="${name}"]`)) el.textContent = value;
  }
}

/** What a kind does, from the option's `data-effect` (the server's sentence). */
function effectOf(form, kind) {
  const option = [...form.elements.kind.options].find((o) => o.value === kind);
  return option ? option.dataset.effect : '';
}

/**
 * The start-a-run form: validates, confirms what the run will do, calls
 * `POST /private/notes/migrate` and reports; `onStarted(cid, answer)` after a 200.
 */
export function wireStartForm(form, onStarted) {
  if (!form) return;
  // A kind that cannot resume another run (reconcile, repair) always starts from page 1.
  const syncMode = () => {
    const option = form.elements.kind.selectedOptions[0];
    const resume = form.elements.mode.querySelector('option[value="resume"]');
    resume.disabled = option?.dataset.resumable !== 'true';
    if (resume.disabled && form.elements.mode.value === 'resume') form.elements.mode.value = 'restart';
  };
  form.elements.kind.addEventListener('change', syncMode);
  syncMode();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const cid = form.elements.cid.value.trim();
    const company = form.elements.company_sso_id.value.trim();
    const kind = form.elements.kind.value;
    const mode = form.elements.mode.value;
    if (
      !form.elements.cid.checkValidity() ||
      !form.elements.company_sso_id.checkValidity() ||
      cid === '' ||
      company === ''
    ) {
      showResult('Enter a CID (digits, no leading zero) and a company_sso_id (letters, digits, . _ : @ -).');
      return;
    }
    const body = { cid, company_sso_id: company, kind, mode };
    const verify = form.elements.verify_attachments;
    if (verify && verify.checked && kind === 'dry_run') body.verify_attachments = true;
    const where =
      mode === 'resume' ? 'from the last checkpoint of its previous unsuccessful run' : 'from page 1';
    const ok = await confirmAction(
      `Start a ${kind.replaceAll('_', ' ')} run?`,
      [
        `CID ${cid}, company ${company}, ${where}.`,
        `A ${kind.replaceAll('_', ' ')} run ${effectOf(form, kind)}.`,
      ],
      `Start ${kind.replaceAll('_', ' ')} run`,
    );
    if (!ok) return;
    const result = await api('POST', '/private/notes/migrate', body).catch(() => null);
    if (!result) return showResult('The service did not answer; nothing was started.');
    if (!result.ok) return showResult(describeRefusal(result));
    showResult(`Started ${kind.replaceAll('_', ' ')} run ${result.body.run_id} of CID ${cid}.`, {
      href: runPageHref(result.body.run_id),
      label: 'Open the run',
    });
    onStarted(cid, result.body);
  });
}
