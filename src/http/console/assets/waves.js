// The waves pages (#17, waves API of #16): a wave's state, canary gate, stop rule, CRM budget,
// 429s and throughput, and its members, from `GET /private/notes/waves/:id` (the JSON the CLI
// reads), kept live by its stream (or a poll every 2 s without one); the pause / resume / cancel
// actions, each confirmed in words. A field the API does not send shows "—". Text nodes only.
import {
  api,
  confirmAction,
  describeRefusal,
  runPageHref,
  setLiveState,
  showResult,
  statusBadgeElement,
} from './console.js';

const POLL_MS = 2000;
const NONE = '—';
const ENDED = new Set(['completed', 'cancelled']);
/** The wave states each action applies to (#16 answers 409 in the others); the rest are hidden. */
const ACTION_STATES = {
  pause: new Set(['running']),
  resume: new Set(['paused']),
  cancel: new Set(['running', 'paused', 'cancelling']),
};

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const label = (key) => String(key).replaceAll('_', ' ');
const num = (value, digits) =>
  typeof value === 'number' && Number.isFinite(value)
    ? value.toLocaleString('en-US', digits === undefined ? {} : { maximumFractionDigits: digits })
    : NONE;
const when = (iso) => (typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : NONE);
const plural = (n, one, many) => `${num(n)} ${n === 1 ? one : many}`;

function duration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return NONE;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** What the canary gate means for the members behind it (#16: canaries first, the rest after). */
const GATE_MEANINGS = {
  none: 'no canary: every member may start',
  waiting: 'waiting: the other members start once the canaries end completed_success',
  open: 'open: the canaries succeeded, the other members start',
  failed: 'failed: a canary did not succeed, so the wave paused',
};

function canaryText(canary) {
  if (!canary || typeof canary !== 'object') return NONE;
  const cids =
    Array.isArray(canary.members) && canary.members.length > 0 ? ` (${canary.members.join(', ')})` : '';
  const gate = GATE_MEANINGS[canary.gate] ?? label(canary.gate ?? NONE);
  return `${plural(canary.count, 'canary', 'canaries')}${cids}; gate ${gate}`;
}

function countsText(counts) {
  if (!counts || typeof counts !== 'object') return NONE;
  const parts = Object.entries(counts)
    .filter(([state, n]) => state !== 'members' && typeof n === 'number' && n > 0)
    .map(([state, n]) => `${num(n)} ${label(state)}`);
  return `${plural(counts.members, 'member', 'members')}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

function notesText(notes) {
  if (!notes || typeof notes !== 'object') return NONE;
  const total = notes.total_estimated ?? notes.total_known;
  const unknown =
    notes.members_with_unknown_total > 0
      ? ` (estimated: ${plural(notes.members_with_unknown_total, 'member has', 'members have')} no total yet)`
      : '';
  return `${num(notes.processed)} of ${num(total)}${unknown}`;
}

function budgetText(fleet) {
  const budget = fleet?.budget;
  if (!budget) return fleet ? 'none: this fleet shares no CRM budget' : NONE;
  const paused = budget.paused_until
    ? `; every worker waits out a Retry-After until ${when(budget.paused_until)}`
    : '';
  return `${num(budget.rate_per_s, 2)} requests/s now (cap ${num(budget.cap_per_s, 2)}/s, burst ${num(budget.burst)})${paused}`;
}

function rateLimitedText(fleet) {
  if (!fleet?.budget) return fleet ? 'not counted: no shared budget' : NONE;
  return `${num(fleet.rate_limited_total)} in all, ${num(fleet.rate_limited_per_s, 2)}/s over the last ~30 s`;
}

const perSecond = (value, unit) => (typeof value === 'number' ? `${num(value, 2)} ${unit}/s` : NONE);

function pauseText(wave) {
  if (wave.pause) {
    const members = Array.isArray(wave.pause.members)
      ? wave.pause.members.map((m) => `${m.cid} ${label(m.state)}`)
      : [];
    return `${label(wave.pause.cause)} by ${wave.pause.by} at ${when(wave.pause.at)}: ${wave.pause.message}${members.length > 0 ? ` (${members.join(', ')})` : ''}`;
  }
  if (wave.cancel) return `cancelled by ${wave.cancel.by} at ${when(wave.cancel.at)}`;
  return NONE;
}

/** The wave's figures: [label, data-field, text]. */
function factsOf(wave) {
  const fleet = wave.fleet ?? null;
  return [
    ['Kind', 'kind', label(wave.kind ?? NONE)],
    ['Members', 'counts', countsText(wave.counts)],
    ['Canary gate', 'canary', canaryText(wave.canary)],
    [
      'Stop rule',
      'stop-rule',
      typeof wave.stop_after_failed_tenants === 'number'
        ? `the wave pauses after ${plural(wave.stop_after_failed_tenants, 'member', 'members')} halted or failed`
        : NONE,
    ],
    ['Tenants at once', 'parallel', num(wave.max_parallel_tenants)],
    ['Notes processed', 'notes', notesText(wave.notes)],
    [
      'Throughput',
      'throughput',
      wave.throughput_notes_per_s == null ? NONE : `${num(wave.throughput_notes_per_s, 1)} notes/s`,
    ],
    ['Time left', 'eta', duration(wave.eta_seconds)],
    ['CRM budget', 'budget', budgetText(fleet)],
    ['CRM requests', 'requests', perSecond(fleet?.requests_per_s, 'requests')],
    ['CRM 429s', 'rate-limited', rateLimitedText(fleet)],
    ['Paused or cancelled', 'pause', pauseText(wave)],
    [
      'Scheduler',
      'scheduler',
      wave.scheduler ? (wave.scheduler.live ? `live (${wave.scheduler.owner})` : 'not running') : NONE,
    ],
    ['Created', 'created', `${when(wave.created_at)} by ${wave.created_by ?? NONE}`],
    ['Finished', 'finished', when(wave.finished_at)],
  ];
}

function renderSummary(wave) {
  const head = el('p');
  head.append(statusBadgeElement(String(wave.state ?? 'unknown'), label(wave.state ?? 'unknown')));
  const dl = el('dl', undefined, 'facts');
  for (const [term, field, text] of factsOf(wave)) {
    const row = el('div');
    const dd = el('dd', text);
    dd.dataset.field = field;
    row.append(el('dt', term), dd);
    dl.append(row);
  }
  return [head, dl];
}

/** Why a member is where it is: the refusal, the run's diagnosis hint, or its halt reason. */
function whyOf(member) {
  const reason =
    member.reason && typeof member.reason === 'object'
      ? `${member.reason.code}: ${member.reason.message}`
      : member.reason;
  const d = member.diagnosis;
  const diagnosis = d && typeof d === 'object' ? (d.hint ?? d.message ?? JSON.stringify(d)) : d;
  return [reason, diagnosis]
    .filter((v) => v !== null && v !== undefined && v !== '')
    .map(String)
    .join(' · ');
}

function memberRow(member) {
  const tr = el('tr');
  tr.dataset.cid = String(member.cid);
  const state = el('td');
  state.append(statusBadgeElement(String(member.state ?? 'unknown'), label(member.state ?? 'unknown')));
  if (member.canary) state.append(' ', el('span', 'canary', 'tag'));
  const run = el('td');
  if (typeof member.run_id === 'string' && member.run_id !== '') {
    const a = el('a', member.run_id, 'mono');
    a.href = runPageHref(member.run_id);
    run.append(a);
  } else run.textContent = NONE;
  const progress = el('td');
  if (typeof member.progress_pct === 'number') {
    const bar = el('progress');
    bar.max = 100;
    bar.value = member.progress_pct;
    bar.setAttribute('aria-label', `Progress of CID ${member.cid}`);
    progress.append(bar, ' ', el('span', `${member.progress_pct.toFixed(1)} %`));
  } else progress.textContent = NONE;
  tr.append(
    el('td', String(member.cid)),
    el('td', String(member.company_sso_id ?? NONE)),
    state,
    run,
    progress,
    el('td', `${num(member.notes_processed)} / ${num(member.notes_total)}`, 'num'),
    el('td', num(member.notes_per_s, 1), 'num'),
    el('td', num(member.crm_rate_limited), 'num'),
    el('td', num(member.attempts), 'num'),
    el('td', whyOf(member)),
  );
  return tr;
}

function render(wave) {
  document.getElementById('wave-loading')?.remove();
  const section = document.getElementById('wave');
  section.dataset.state = String(wave.state ?? '');
  document.getElementById('wave-summary').replaceChildren(...renderSummary(wave));
  const members = Array.isArray(wave.members) ? wave.members : [];
  document.querySelector('#members tbody').replaceChildren(...members.map(memberRow));
  let shown = 0;
  for (const button of document.querySelectorAll('button[data-wave-action]')) {
    button.hidden = !(ACTION_STATES[button.dataset.waveAction]?.has(wave.state) ?? true);
    if (!button.hidden) shown++;
  }
  const none = document.getElementById('no-wave-action');
  if (none) none.textContent = shown === 0 ? `No action applies to a ${label(wave.state)} wave.` : '';
}

async function refresh(section) {
  const result = await api('GET', section.dataset.url).catch(() => null);
  if (!result || !result.ok) {
    setLiveState('reconnecting');
    if (result) showResult(describeRefusal(result));
    return;
  }
  render(result.body);
}

function follow(section) {
  if (!section.dataset.stream) {
    setLiveState('live');
    void refresh(section);
    const timer = setInterval(() => {
      if (ENDED.has(section.dataset.state)) {
        clearInterval(timer);
        setLiveState('static');
      } else void refresh(section);
    }, POLL_MS);
    return;
  }
  const source = new EventSource(section.dataset.stream);
  source.addEventListener('open', () => setLiveState('live'));
  source.addEventListener('wave', (event) => {
    setLiveState('live');
    render(JSON.parse(event.data));
  });
  // The wave ended: the server closes the stream, and there is nothing more to follow.
  source.addEventListener('end', () => {
    source.close();
    setLiveState('static');
  });
  source.addEventListener('error', () => {
    if (source.readyState !== EventSource.CLOSED || !ENDED.has(section.dataset.state))
      setLiveState('reconnecting');
  });
}

function wireActions(section) {
  for (const button of document.querySelectorAll('button[data-wave-action]')) {
    button.addEventListener('click', async () => {
      const action = button.dataset.waveAction;
      const confirmed = await confirmAction(
        `${label(action)} this wave?`,
        [button.dataset.confirm],
        `${label(action)} wave`,
      );
      if (!confirmed) return;
      const result = await api('POST', button.dataset.url, {}).catch(() => null);
      if (!result) return showResult('The service did not answer; nothing changed.');
      if (!result.ok) return showResult(describeRefusal(result));
      showResult(`Wave ${action}: now ${label(result.body?.state ?? 'changed')}.`);
      if (result.body && typeof result.body === 'object' && 'members' in result.body) render(result.body);
      else await refresh(section);
    });
  }
}

async function listWaves(list) {
  const result = await api('GET', list.dataset.list).catch(() => null);
  const body = result && result.ok ? result.body : null;
  const waves = Array.isArray(body) ? body : Array.isArray(body?.items) ? body.items : [];
  document.getElementById('waves-empty').textContent =
    result && !result.ok ? describeRefusal(result) : waves.length === 0 ? 'No wave yet.' : '';
  document.getElementById('wave-list').replaceChildren(
    ...waves.map((w) => {
      const li = el('li');
      const id = String(w.wave_id ?? '');
      const a = el('a', id, 'mono');
      a.href = `/private/console/waves/${encodeURIComponent(id)}`;
      li.append(a, ' ', statusBadgeElement(String(w.state ?? 'unknown'), label(w.state ?? 'unknown')));
      li.append(` ${label(w.kind ?? '')} · created ${when(w.created_at)} by ${w.created_by ?? NONE}`);
      return li;
    }),
  );
}

const wave = document.getElementById('wave');
if (wave) {
  follow(wave);
  wireActions(wave);
}
const list = document.getElementById('waves');
if (list && list.dataset.list) await listWaves(list);
