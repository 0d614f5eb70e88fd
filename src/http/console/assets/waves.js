// The waves pages (#17, waves API of #16): the wave's summary and members from
// `GET /private/notes/waves/:id`, kept live by its stream (or a poll every 2 s without one), and
// the pause / resume / cancel actions, each confirmed in words. Built with text nodes only.
import { api, confirmAction, describeRefusal, runPageHref, setLiveState, showResult } from './console.js';

const POLL_MS = 2000;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const label = (key) => key.replaceAll('_', ' ');
const show = (value) =>
  value === null || value === undefined
    ? '—'
    : typeof value === 'number'
      ? value.toLocaleString('en-US')
      : String(value);

/** Scalar figures and one level of objects (canary, budget, counts…) as a definition list. */
function summaryOf(wave) {
  const dl = el('dl', undefined, 'facts');
  for (const [key, value] of Object.entries(wave)) {
    if (key === 'members') continue;
    const row = el('div');
    row.append(el('dt', label(key)));
    const dd = el('dd');
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      dd.textContent = Object.entries(value)
        .map(([k, v]) => `${label(k)}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : show(v)}`)
        .join(' · ');
    } else if (Array.isArray(value)) {
      dd.textContent = value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : show(v))).join(', ');
    } else {
      dd.textContent = show(value);
    }
    row.append(dd);
    dl.append(row);
  }
  return dl;
}

function memberRow(member) {
  const tr = el('tr');
  tr.append(el('td', show(member.cid)), el('td', show(member.company_sso_id)));
  const state = el('td');
  const badge = el('span', undefined, `badge badge-${String(member.state ?? member.status ?? 'unknown')}`);
  badge.append(el('span', show(member.state ?? member.status), 'badge-label'));
  state.append(badge);
  const run = el('td');
  if (typeof member.run_id === 'string' && member.run_id !== '') {
    const a = el('a', member.run_id, 'mono');
    a.href = runPageHref(member.run_id);
    run.append(a);
  } else run.textContent = '—';
  const pct = typeof member.progress_pct === 'number' ? `${member.progress_pct.toFixed(1)} %` : '—';
  const reason = member.reason ?? member.skip_reason ?? member.diagnosis?.hint ?? member.halt_reason ?? '';
  tr.append(state, run, el('td', pct), el('td', show(member.notes_per_s)), el('td', String(reason)));
  return tr;
}

function render(section, wave) {
  document.getElementById('wave-loading')?.remove();
  document.getElementById('wave-summary').replaceChildren(summaryOf(wave));
  const members = Array.isArray(wave.members) ? wave.members : [];
  document.querySelector('#members tbody').replaceChildren(...members.map(memberRow));
}

async function refresh(section) {
  const result = await api('GET', section.dataset.url).catch(() => null);
  if (!result || !result.ok) {
    setLiveState('reconnecting');
    if (result) showResult(describeRefusal(result));
    return;
  }
  render(section, result.body);
}

function follow(section) {
  if (!section.dataset.stream) {
    setLiveState('live');
    void refresh(section);
    setInterval(() => void refresh(section), POLL_MS);
    return;
  }
  const source = new EventSource(section.dataset.stream);
  const onWave = (event) => {
    setLiveState('live');
    render(section, JSON.parse(event.data));
  };
  for (const name of ['wave', 'status', 'message']) source.addEventListener(name, onWave);
  source.addEventListener('error', () => setLiveState('reconnecting'));
  void refresh(section);
}

const wave = document.getElementById('wave');
if (wave) {
  follow(wave);
  for (const button of document.querySelectorAll('button[data-wave-action]')) {
    button.addEventListener('click', async () => {
      const action = button.dataset.waveAction;
      if (
        !(await confirmAction(
          `${label(action)} this wave?`,
          [button.dataset.confirm],
          `${label(action)} wave`,
        ))
      )
        return;
      const result = await api('POST', button.dataset.url, {}).catch(() => null);
      if (!result) return showResult('The service did not answer; nothing changed.');
      if (!result.ok) return showResult(describeRefusal(result));
      showResult(`Wave ${action} done.`);
      await refresh(wave);
    });
  }
}

const list = document.getElementById('waves');
if (list && list.dataset.list) {
  const result = await api('GET', list.dataset.list).catch(() => null);
  const waves =
    result && result.ok ? (Array.isArray(result.body) ? result.body : (result.body.waves ?? [])) : [];
  document.getElementById('waves-empty').textContent = waves.length === 0 ? 'No wave yet.' : '';
  document.getElementById('wave-list').replaceChildren(
    ...waves.map((w) => {
      const li = el('li');
      const id = String(w.wave_id ?? w.id ?? '');
      const a = el('a', id, 'mono');
      a.href = `/private/console/waves/${encodeURIComponent(id)}`;
      li.append(a, ` · ${show(w.state ?? w.status)}`);
      return li;
    }),
  );
}
