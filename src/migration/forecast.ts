/**
 * The forecast of a dry run (DESIGN.md §11.3, #13): what it adds up page by page (persons,
 * owners, attachments, read time, where a real run would halt), how it ends (the outcome a real
 * run would reach, an estimated duration), and the view that status, SSE, CLI and reports show.
 * Pure: documents in, documents out. The predicted counts are the dry run's own counters.
 */
import type {
  DiagnosisDoc,
  ForecastDoc,
  ProblemTallyDoc,
  RunCounters,
  RunDoc,
  WouldHaltDoc,
} from '../db/documents.js';
import { type ReasonCode, severityOf, type TerminalRunStatus } from '../domain.js';
import { diagnose } from './diagnose.js';
import { addDistinct, distinctCountOf, EMPTY_DISTINCT_COUNT } from './distinct-count.js';
import type { HaltVerdict } from './halt-check.js';
import type { PreparedNotes } from './prepare-notes.js';
import { problemTallyOf } from './problem-tally.js';
import { warningRate } from './run-counters.js';

/** Distinct blocked hosts kept by name; a hostile CRM could send a new host per attachment. */
export const BLOCKED_HOSTS_MAX = 50;

/**
 * What one migrated note costs to write, for the duration estimate: the bulk upsert measured by
 * `npm run bench` on the test server (942 ms per 500-note page with polling, README
 * "Performance"; 3.2 ms with a change stream open on SecantusDB). A real replica set is usually
 * faster, so the estimate errs long. No dry-run write is made to measure it: a dry run writes nothing.
 */
export const WRITE_MS_PER_NOTE = 1.9;

export function emptyForecast(verifyAttachments: boolean): ForecastDoc {
  return {
    verify_attachments: verifyAttachments,
    pages: 0,
    read_ms: 0,
    persons_seen: { ...EMPTY_DISTINCT_COUNT },
    persons_found: { ...EMPTY_DISTINCT_COUNT },
    owners: { by_crm_user_id: 0, by_email: 0, unmapped: 0 },
    attachments: {
      declared: 0,
      would_store: 0,
      would_store_bytes: 0,
      blocked: 0,
      blocked_hosts: [],
      blocked_elsewhere: 0,
    },
    would_halt: null,
    outcome: null,
    estimated_duration: null,
  };
}

/** The forecast with one prepared page added; `readMs` is the page's measured read side. */
export function addForecastPage(forecast: ForecastDoc, prepared: PreparedNotes, readMs: number): ForecastDoc {
  const owners = { ...forecast.owners };
  const attachments = { ...forecast.attachments };
  for (const c of prepared.candidates) {
    if (!c.owner.mapped) owners.unmapped++;
    else if (c.owner.via === 'email') owners.by_email++;
    else owners.by_crm_user_id++;
    attachments.would_store += c.attachments.length;
    attachments.would_store_bytes += c.attachments.reduce((sum, a) => sum + a.file_size_in_byte, 0);
  }
  attachments.declared += prepared.attachments.declared;
  attachments.blocked += prepared.attachments.blocked;
  const hosts = mergeHosts(attachments.blocked_hosts, prepared.attachments.blockedHosts);
  attachments.blocked_hosts = hosts.kept;
  attachments.blocked_elsewhere += hosts.elsewhere;
  return {
    ...forecast,
    pages: forecast.pages + 1,
    read_ms: forecast.read_ms + readMs,
    persons_seen: addDistinct(forecast.persons_seen, prepared.persons.seen),
    persons_found: addDistinct(forecast.persons_found, prepared.persons.found),
    owners,
    attachments,
  };
}

function mergeHosts(
  known: readonly { host: string; count: number }[],
  page: ReadonlyMap<string, number>,
): { kept: { host: string; count: number }[]; elsewhere: number } {
  const counts = new Map(known.map((h) => [h.host, h.count]));
  let elsewhere = 0;
  for (const [host, n] of page) {
    if (counts.has(host) || counts.size < BLOCKED_HOSTS_MAX) counts.set(host, (counts.get(host) ?? 0) + n);
    else elsewhere += n;
  }
  const kept = [...counts]
    .map(([host, count]) => ({ host, count }))
    .sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
  return { kept, elsewhere };
}

/** Where a real run would halt, with the counters and failure log it would report then. */
export function wouldHaltOf(
  verdict: HaltVerdict,
  page: number,
  counters: RunCounters,
  tally: ProblemTallyDoc,
): WouldHaltDoc {
  return {
    page,
    trigger: verdict.trigger,
    reason: verdict.reason,
    failure_rate: counters.failure_rate,
    warning_rate: warningRate(counters),
    diagnosis: verdict.diagnosis,
    at_halt: {
      notes_processed: counters.notes_processed,
      notes_migrated: counters.notes_migrated,
      notes_skipped: counters.notes_skipped,
      notes_failed: counters.notes_failed,
      notes_with_warnings: counters.notes_with_warnings,
      out_of_scope_count: counters.out_of_scope_count,
      failure_rate: counters.failure_rate,
      problems_by_reason: { ...tally.by_reason },
    },
  };
}

export interface PredictedValidation {
  status: TerminalRunStatus;
  matchPct: number | null;
  notesInScope: number | null;
}

/** The forecast at the end: the outcome a real run would reach, and how long it would take. */
export function finishForecast(
  forecast: ForecastDoc,
  validation: PredictedValidation,
  counters: RunCounters,
): ForecastDoc {
  const halt = forecast.would_halt;
  const outcome: NonNullable<ForecastDoc['outcome']> = halt
    ? { status: 'halted', match_pct: null, notes_in_scope: null, halt_page: halt.page }
    : {
        status: validation.status,
        match_pct: validation.matchPct,
        notes_in_scope: validation.notesInScope,
        halt_page: null,
      };
  const readPerPage = forecast.pages > 0 ? forecast.read_ms / forecast.pages : 0;
  const basis = [
    `read side measured by this dry run over ${forecast.pages} page(s): CRM fetch, validation, existence check, contact and owner lookups, sanitizing, the failure log`,
    forecast.verify_attachments
      ? 'and attachment downloads with their checks'
      : 'and the attachment URL checks only (downloads not measured: verify_attachments was off)',
    `+ ${WRITE_MS_PER_NOTE} ms per note to be migrated (the bulk upsert measured by npm run bench on the test server; not measured here, a dry run writes nothing);`,
    'S3 uploads not included; for the whole tenant, as if the run did not halt',
  ].join(' ');
  return {
    ...forecast,
    outcome,
    estimated_duration: {
      total_ms: Math.round(forecast.read_ms + counters.notes_migrated * WRITE_MS_PER_NOTE),
      read_ms_per_page: Math.round(readPerPage),
      write_ms_per_note: WRITE_MS_PER_NOTE,
      basis,
    },
  };
}

/** The forecast as status, SSE and reports show it; null for runs that are not dry runs. */
export interface ForecastView {
  complete: boolean;
  verify_attachments: boolean;
  pages: number;
  notes_total: number | null;
  migrated: number;
  skipped: number;
  out_of_scope: number;
  failed: number;
  with_warnings: number;
  failures_by_reason: Partial<Record<ReasonCode, number>>;
  warnings_by_reason: Partial<Record<ReasonCode, number>>;
  failure_rate: number;
  warning_rate: number;
  /** What a real run would end with; null until the dry run has read every page. */
  terminal_status: TerminalRunStatus | null;
  match_pct: number | null;
  would_halt: WouldHaltDoc | null;
  contacts: { persons_seen: number; persons_found: number; exact: boolean };
  owners: ForecastDoc['owners'];
  attachments: ForecastDoc['attachments'] & { verified: boolean };
  /** The dominant cause over the whole tenant (a systemic one first). */
  diagnosis: DiagnosisDoc | null;
  estimated_duration: ForecastDoc['estimated_duration'];
}

export function forecastViewOf(run: RunDoc): ForecastView | null {
  const f = run.forecast;
  if (!f) return null;
  const tally = problemTallyOf(run);
  const bySeverity = (severity: 'failure' | 'warning') =>
    Object.fromEntries(
      Object.entries(tally.by_reason).filter(([code]) => severityOf(code as ReasonCode) === severity),
    ) as Partial<Record<ReasonCode, number>>;
  const seen = distinctCountOf(f.persons_seen);
  const found = distinctCountOf(f.persons_found);
  return {
    complete: run.status !== 'in_progress',
    verify_attachments: f.verify_attachments,
    pages: f.pages,
    notes_total: run.notes_total,
    migrated: run.notes_migrated,
    skipped: run.notes_skipped,
    out_of_scope: run.out_of_scope_count,
    failed: run.notes_failed,
    with_warnings: run.notes_with_warnings,
    failures_by_reason: bySeverity('failure'),
    warnings_by_reason: bySeverity('warning'),
    failure_rate: run.failure_rate,
    warning_rate: warningRate(run),
    terminal_status: f.outcome?.status ?? null,
    match_pct: f.outcome?.match_pct ?? null,
    would_halt: f.would_halt,
    contacts: { persons_seen: seen.count, persons_found: found.count, exact: seen.exact && found.exact },
    owners: f.owners,
    attachments: { ...f.attachments, verified: f.verify_attachments },
    diagnosis: diagnose({
      companySsoId: run.company_sso_id,
      inScope: run.notes_processed - run.out_of_scope_count,
      tally,
      persons: { seen: seen.count, found: found.count },
      attachments: {
        total: f.attachments.declared,
        blocked: f.attachments.blocked,
        blockedHosts: f.attachments.blocked_hosts,
      },
    }),
    estimated_duration: f.estimated_duration,
  };
}
