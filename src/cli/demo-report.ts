/**
 * The demo's final report (issue #8): what the run did, and — because the fake CRM planted
 * every problem on purpose — whether that is exactly what a correct migration must report.
 * Pure: data in, lines and a verdict out.
 */
import type { FakeTenantPlan } from '../crm/fake/fake-tenant-plan.js';
import type { RunDoc } from '../db/documents.js';
import { type ReasonCode, runKindOf } from '../domain.js';
import { diagnosisLine } from './forecast-report.js';

export interface DemoReportInput {
  run: RunDoc;
  plan: FakeTenantPlan;
  problemsByReason: Partial<Record<ReasonCode, number>>;
  elapsedMs: number;
  statusUrl: string;
  cid: string;
}

export interface PlanCheck {
  what: string;
  planted: number | null;
  observed: number | null;
  ok: boolean;
}

export interface DemoReport {
  lines: string[];
  checks: PlanCheck[];
  /** Every observed figure equals what the generator planted. */
  matchesPlan: boolean;
}

export function buildDemoReport(input: DemoReportInput): DemoReport {
  const { run, plan } = input;
  const seconds = input.elapsedMs / 1000;
  const checks: PlanCheck[] = [
    check('notes_total', plan.notesTotal, run.notes_total),
    check('out_of_scope_count', plan.outOfScope, run.out_of_scope_count),
    check('notes_migrated', plan.expectedMigrated, run.notes_migrated),
    check('notes_failed', plan.expectedFailed, run.notes_failed),
    check('notes_with_warnings', plan.notesWithWarnings, run.notes_with_warnings),
    {
      what: 'match_pct',
      planted: plan.expectedMatchPct,
      observed: run.match_pct,
      ok:
        plan.expectedMatchPct !== null &&
        run.match_pct !== null &&
        Math.abs(plan.expectedMatchPct - run.match_pct) < 0.0001,
    },
    ...Object.entries({ ...plan.failures, ...plan.warnings }).map(([code, n]) =>
      check(code, n, input.problemsByReason[code as ReasonCode] ?? 0),
    ),
  ];
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
  const problems = Object.entries(input.problemsByReason)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `    ${code.padEnd(28)} ${String(n).padStart(6)}`);
  const lines = [
    '',
    `Migration of CID ${input.cid} → ${run.status}${run.halt_reason ? ` (${run.halt_reason})` : ''}${run.error ? ` (${run.error.code}: ${run.error.message})` : ''}`,
    `  notes total ${run.notes_total ?? '?'} · processed ${run.notes_processed} · migrated ${run.notes_migrated} · skipped ${run.notes_skipped} · failed ${run.notes_failed} · out of scope ${run.out_of_scope_count} · with warnings ${run.notes_with_warnings}`,
    ...(run.halt_diagnosis ? [`  ${diagnosisLine(run.halt_diagnosis)}`] : []),
    `  failure rate ${pct(run.failure_rate)} · match ${pct(run.match_pct)} · closure ${run.closure?.balanced ? 'balanced' : 'NOT balanced'}`,
    `  elapsed ${seconds.toFixed(1)} s · ${Math.round(run.notes_processed / Math.max(seconds, 0.001))} notes/s`,
    ...auditLines(run),
    '  failure log by reason code:',
    ...(problems.length ? problems : ['    (none)']),
    '',
    `Planted by the fake CRM vs observed: ${checks.every((c) => c.ok) ? 'all match' : 'MISMATCH'}`,
    ...checks.filter((c) => !c.ok).map((c) => `    ${c.what}: planted ${c.planted}, observed ${c.observed}`),
    '',
    'Where to look next:',
    `  status:   curl -u "$API_USERNAME:$API_PASSWORD" '${input.statusUrl}'`,
    `  failures: notes-migrator failures --cid ${input.cid} --format csv > failures.csv   (against a running service)`,
    `  runs:     GET /private/notes/migration/runs?cid=${input.cid}`,
  ];
  return { lines, checks, matchesPlan: checks.every((c) => c.ok) };
}

/** Who asked for the run and what shaped it (DESIGN.md §11.9). */
function auditLines(run: RunDoc): string[] {
  const c = run.config;
  return [
    `  kind ${runKindOf(run)} · mode ${run.mode} · triggered by ${run.triggered_by ?? 'unknown'}`,
    c
      ? `  config: service ${c.service_version} · sanitizer policy ${c.sanitizer_policy_sha256.slice(0, 12)}… · page size ${c.page_size} · note types ${c.note_type_allowlist.join(',')} · attachment hosts ${c.attachment_hosts.join(',') || '(none)'} · max failure rate ${c.max_failure_rate} · max warning rate ${c.max_warning_rate ?? 'n/a'} · match threshold ${c.match_pct_threshold}`
      : '  config: (not stamped)',
  ];
}

function check(what: string, planted: number, observed: number | null): PlanCheck {
  return { what, planted, observed, ok: planted === observed };
}
