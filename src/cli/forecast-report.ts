/**
 * A dry run's forecast and a halt's diagnosis as terminal lines (#13), for `forecast`, `status`
 * and the demo. Pure: the status body's JSON in, lines out. Values come from CRM and CDP, but a
 * terminal renders no markup, so nothing needs escaping beyond keeping each value on one line.
 */
import type { DiagnosisDoc } from '../db/documents.js';
import type { ForecastView } from '../migration/forecast.js';

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`;
const oneLine = (text: string) => text.replace(/[\r\n\t]+/g, ' ');

/** `diagnosis: CODE (12.3 %, systemic) — hint · e.g. notes 1, 2`. */
export function diagnosisLine(d: DiagnosisDoc, label = 'diagnosis'): string {
  const samples = d.sample_note_ids.length > 0 ? ` · e.g. notes ${d.sample_note_ids.join(', ')}` : '';
  return oneLine(
    `${label}: ${d.reason_code} (${(d.share * 100).toFixed(1)} %${d.systemic ? ', systemic' : ''}) — ${d.hint}${samples}`,
  );
}

function byReasonLines(counts: Partial<Record<string, number>>): string[] {
  const rows = Object.entries(counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `      ${code.padEnd(28)} ${String(n).padStart(6)}`);
  return rows.length > 0 ? rows : ['      (none)'];
}

export function forecastLines(cid: string, f: ForecastView): string[] {
  const halt = f.would_halt;
  const outcome = f.terminal_status
    ? `a real run would end ${f.terminal_status}${halt ? ` after page ${halt.page}` : ''} · match ${pct(f.match_pct)}`
    : 'incomplete: the dry run has not read every page';
  const totalMs = f.estimated_duration?.total_ms ?? null;
  const duration =
    totalMs === null
      ? null
      : totalMs < 600_000
        ? `${Math.round(totalMs / 1000)} s`
        : `${(totalMs / 60_000).toFixed(0)} min`;
  const a = f.attachments;
  return [
    '',
    `Forecast for CID ${cid} (dry run, nothing written; attachments ${f.verify_attachments ? 'downloaded and checked' : 'URL-checked only'}): ${outcome}`,
    `  notes total ${f.notes_total ?? '?'} · would migrate ${f.migrated} · skip (already in CDP) ${f.skipped} · out of scope ${f.out_of_scope} · fail ${f.failed} · with warnings ${f.with_warnings}`,
    `  failure rate ${pct(f.failure_rate)} · warning rate ${pct(f.warning_rate)}`,
    ...(halt
      ? [
          oneLine(`  would halt after page ${halt.page}: ${halt.reason}`),
          `    a real run would then report migrated ${halt.at_halt.notes_migrated} · failed ${halt.at_halt.notes_failed} · failure rate ${pct(halt.at_halt.failure_rate)}`,
        ]
      : ['  would not halt']),
    `  contacts: ${f.contacts.persons_found} of ${f.contacts.persons_seen} persons found in CDP${f.contacts.exact ? '' : ' (estimated)'}`,
    `  owners: ${f.owners.by_crm_user_id} by CRM user id · ${f.owners.by_email} by e-mail · ${f.owners.unmapped} unmapped`,
    `  attachments: ${a.declared} declared · ${a.would_store} would be stored (${a.would_store_bytes} bytes) · ${a.blocked} blocked${a.blocked_hosts.length > 0 ? `: ${a.blocked_hosts.map((h) => `${h.host} (${h.count})`).join(', ')}${a.blocked_elsewhere > 0 ? `, other hosts (${a.blocked_elsewhere})` : ''}` : ''}`,
    '    failures by reason:',
    ...byReasonLines(f.failures_by_reason),
    '    warnings by reason:',
    ...byReasonLines(f.warnings_by_reason),
    ...(f.diagnosis ? [`  ${diagnosisLine(f.diagnosis)}`] : []),
    ...(f.estimated_duration && duration !== null
      ? [
          oneLine(
            `  estimated duration of the real run: ~${duration} (estimate: ${f.estimated_duration.basis})`,
          ),
        ]
      : []),
  ];
}
