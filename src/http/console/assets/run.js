// The run page (#17): live counters and progress while the run is the tenant's latest and not
// finished, and the run's actions — cancel, resume, rollback (preview first) and starting another
// run — each confirmed in words before it calls the same API as the CLI.
import {
  api,
  confirmAction,
  describeRefusal,
  fillFields,
  followTenants,
  isTerminal,
  runPageHref,
  showResult,
  wireStartForm,
} from './console.js';

const section = document.getElementById('run');
const { runId, cid, company } = section.dataset;

function notice(text, link) {
  let p = document.getElementById('run-notice');
  if (!p) {
    p = document.createElement('p');
    p.id = 'run-notice';
    p.className = 'notice';
    p.setAttribute('role', 'status');
    section.append(p);
  }
  p.replaceChildren(document.createTextNode(text));
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.label;
    p.append(' ', a);
  }
}

if (section.dataset.live === 'true') {
  const close = followTenants(section.dataset.stream, [cid], (item) => {
    if (item.status === 'not_started') return;
    if (item.run_id !== runId) {
      notice('A newer run of this tenant started.', { href: runPageHref(item.run_id), label: 'Open it' });
      close();
      return;
    }
    section.dataset.status = item.status;
    fillFields(section, item);
    if (isTerminal(item.status)) {
      close();
      notice(`The run ended: ${item.display.status}.`, {
        href: runPageHref(runId),
        label: 'Reload for its final failures, closure and timeline',
      });
    }
  });
}

async function act(path, body, started) {
  const result = await api('POST', path, body).catch(() => null);
  if (!result) return showResult('The service did not answer; nothing changed.');
  if (!result.ok) return showResult(describeRefusal(result));
  started(result.body);
}

async function onCancel(button) {
  if (!(await confirmAction('Cancel this run?', [button.dataset.confirm], 'Cancel the run'))) return;
  await act('/private/notes/migration/cancel', { cid }, (answer) =>
    showResult(
      answer.status === 'cancelled'
        ? 'Cancelled.'
        : 'Cancel requested: the worker stops after its current page.',
    ),
  );
}

async function onResume(button) {
  if (!(await confirmAction('Resume this run?', [button.dataset.confirm], 'Resume'))) return;
  await act(
    '/private/notes/migrate',
    { cid, company_sso_id: company, kind: button.dataset.kind, mode: 'resume' },
    (answer) =>
      showResult(`Started run ${answer.run_id}, resuming this one.`, {
        href: runPageHref(answer.run_id),
        label: 'Open it',
      }),
  );
}

/** The preview's figures as a list of "name: value" lines (whatever the API reports). */
function previewLines(preview) {
  return Object.entries(preview)
    .filter(([key, value]) => typeof value === 'number' && !['dry_run'].includes(key))
    .map(([key, value]) => `${key.replaceAll('_', ' ')}: ${value.toLocaleString('en-US')}`);
}

async function onRollback(button) {
  const url = button.dataset.url;
  const preview = await api('POST', url, { dry_run: true }).catch(() => null);
  if (!preview) return showResult('The service did not answer; nothing changed.');
  if (!preview.ok) return showResult(describeRefusal(preview));
  const lines = previewLines(preview.body);
  const box = document.getElementById('rollback-preview');
  const heading = document.createElement('h3');
  heading.textContent = 'Rollback preview';
  const list = document.createElement('ul');
  list.replaceChildren(
    ...lines.map((line) => {
      const li = document.createElement('li');
      li.textContent = line;
      return li;
    }),
  );
  box.replaceChildren(heading, list);
  box.hidden = false;
  const ok = await confirmAction(
    'Roll back this run?',
    [
      `Deletes the notes run ${runId} inserted that nobody has edited since, and their attachment objects. Edited notes are kept and reported; human notes and other runs' notes are never touched.`,
      ...lines,
    ],
    'Roll back',
  );
  if (!ok) return;
  await act(url, { dry_run: false }, (answer) =>
    showResult(`Started rollback run ${answer.run_id}.`, {
      href: runPageHref(answer.run_id),
      label: 'Open it',
    }),
  );
}

const handlers = { cancel: onCancel, resume: onResume, rollback: onRollback };
for (const button of document.querySelectorAll('button[data-action]')) {
  const handler = handlers[button.dataset.action];
  if (handler) button.addEventListener('click', () => void handler(button));
}

wireStartForm(document.getElementById('start-form'), () => {});
