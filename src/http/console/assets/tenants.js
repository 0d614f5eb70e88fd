// The tenants page (#17): follows the rows of this page live, adds a row for a tenant that gets
// its first run from the start form, and wires that form. Rows are the server's markup; a new one
// is a clone of the page's <template>, filled with text.
import { fillFields, followTenants, runPageHref, wireStartForm } from './console.js';

const table = document.getElementById('tenants');
const tbody = table.querySelector('tbody');
const template = document.getElementById('tenant-row-template');
/** One page of rows is one stream; the server caps a stream at this many CIDs. */
const MAX_CIDS = 100;

const rowOf = (cid) => [...tbody.querySelectorAll('tr[data-cid]')].find((tr) => tr.dataset.cid === cid);

function fillRow(row, item) {
  row.dataset.cid = item.cid;
  row.dataset.runId = item.run_id;
  const link = row.querySelector('[data-field-link="run"]');
  link.href = runPageHref(item.run_id);
  link.textContent = item.cid;
  const progress = row.querySelector('progress');
  if (progress) progress.setAttribute('aria-label', `Progress of CID ${item.cid}`);
  fillFields(row, item);
}

function onItem(item) {
  if (item.status === 'not_started') return;
  let row = rowOf(item.cid);
  if (!row) {
    row = template.content.firstElementChild.cloneNode(true);
    tbody.prepend(row);
    document.getElementById('no-tenants')?.remove();
    const count = document.getElementById('tenant-count');
    const shown = tbody.querySelectorAll('tr[data-cid]').length;
    if (count)
      count.textContent = `${shown} tenant${shown === 1 ? '' : 's'} on this page (reload for the totals)`;
  }
  fillRow(row, item);
}

let cids = [...tbody.querySelectorAll('tr[data-cid]')].map((tr) => tr.dataset.cid).filter(Boolean);
let close = followTenants(table.dataset.stream, cids, onItem);

wireStartForm(document.getElementById('start-form'), (cid) => {
  if (cids.includes(cid)) return;
  // Follow the new tenant too (the oldest row stops being live when the page is full).
  cids = [cid, ...cids].slice(0, MAX_CIDS);
  close();
  close = followTenants(table.dataset.stream, cids, onItem);
});
