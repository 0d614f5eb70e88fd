/**
 * Whether a run must stop after a page (DESIGN.md §4, §11.4, #13), in this order: a systemic
 * cause on the page (most payloads invalid, most contacts missing, every attachment blocked) →
 * the failure rate above MAX_FAILURE_RATE → the warning rate above MAX_WARNING_RATE. Pure: the
 * migrate and repair kinds halt on the verdict, the dry run records where a real run would have halted.
 */
import type { DiagnosisDoc, ProblemTallyDoc, RunCounters } from '../db/documents.js';
import { diagnose, type DiagnosisFigures, type DiagnosisThresholds } from './diagnose.js';
import type { AttachmentStats, Problem } from './prepare-notes.js';
import { addProblems, EMPTY_PROBLEM_TALLY } from './problem-tally.js';
import { shouldHalt, warningRate } from './run-counters.js';
import type { HaltDecision } from './run-step.js';

export interface HaltThresholds {
  maxFailureRate: number;
  maxWarningRate: number;
  diagnosis?: DiagnosisThresholds;
}

export interface HaltCheckInput {
  companySsoId: string;
  /** The run's counters after the page. */
  counters: RunCounters;
  page: number;
  /** The page's own figures: systemic causes are judged page by page. */
  pageFigures: DiagnosisFigures;
  /** The run's problems so far: the dominant cause of a rate halt. */
  runTally: ProblemTallyDoc;
}

export interface HaltVerdict {
  trigger: 'systemic' | 'failure_rate' | 'warning_rate';
  /** The run's `halt_reason`. */
  reason: string;
  diagnosis: DiagnosisDoc | null;
}

export function checkHalt(input: HaltCheckInput, thresholds: HaltThresholds): HaltVerdict | null {
  const { counters, page } = input;
  const systemic = diagnose(input.pageFigures, thresholds.diagnosis);
  if (systemic?.systemic) {
    return {
      trigger: 'systemic',
      reason: `systemic ${systemic.reason_code} on page ${page}: ${systemic.hint}`,
      diagnosis: systemic,
    };
  }
  const runFigures: DiagnosisFigures = {
    companySsoId: input.companySsoId,
    inScope: counters.notes_processed - counters.out_of_scope_count,
    tally: input.runTally,
    persons: { seen: 0, found: 0 },
    attachments: { total: 0, blocked: 0, blockedHosts: [] },
  };
  if (shouldHalt(counters, thresholds.maxFailureRate)) {
    return {
      trigger: 'failure_rate',
      reason: `failure_rate ${counters.failure_rate.toFixed(4)} > MAX_FAILURE_RATE ${thresholds.maxFailureRate} after page ${page}`,
      diagnosis: diagnose(runFigures, thresholds.diagnosis, 'failure'),
    };
  }
  const warnings = warningRate(counters);
  if (warnings > thresholds.maxWarningRate) {
    return {
      trigger: 'warning_rate',
      reason: `warning_rate ${warnings.toFixed(4)} > MAX_WARNING_RATE ${thresholds.maxWarningRate} after page ${page}`,
      diagnosis: diagnose(runFigures, thresholds.diagnosis, 'warning'),
    };
  }
  return null;
}

/** One page's figures for `diagnose`, from what its prepare found and the problems it ended with. */
export function pageFiguresOf(input: {
  companySsoId: string;
  seen: number;
  outOfScope: number;
  problems: readonly Problem[];
  persons: { seen: readonly string[]; found: readonly string[] };
  attachments: AttachmentStats;
}): DiagnosisFigures {
  return {
    companySsoId: input.companySsoId,
    inScope: input.seen - input.outOfScope,
    tally: addProblems(EMPTY_PROBLEM_TALLY, input.problems),
    persons: { seen: input.persons.seen.length, found: input.persons.found.length },
    attachments: {
      total: input.attachments.declared,
      blocked: input.attachments.blocked,
      blockedHosts: [...input.attachments.blockedHosts]
        .map(([host, count]) => ({ host, count }))
        .sort((a, b) => b.count - a.count || a.host.localeCompare(b.host)),
    },
  };
}

/** The halt a writing kind (migrate, repair) makes of a verdict: the diagnosis stored, the rates logged. */
export function haltDecisionOf(verdict: HaltVerdict, counters: RunCounters): HaltDecision {
  return {
    reason: verdict.reason,
    runFields: { halt_diagnosis: verdict.diagnosis },
    logFields: {
      trigger: verdict.trigger,
      failure_rate: counters.failure_rate,
      warning_rate: warningRate(counters),
      halt_diagnosis: verdict.diagnosis,
    },
  };
}
