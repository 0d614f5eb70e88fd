import { describe, expect, it } from 'vitest';

import type { DiagnosisDoc, WaveMemberDoc, WouldHaltDoc } from '../../../../src/db/documents.js';
import { emptyForecast } from '../../../../src/migration/forecast.js';
import { diagnosisOf, memberChangesFromRun } from '../../../../src/migration/waves/wave-member-sync.js';
import { makeRun, makeWaveMember } from '../../../fixtures/builders.js';

const cause: DiagnosisDoc = {
  reason_code: 'CONTACT_NOT_MAPPED',
  share: 0.96,
  count: 24,
  sample_note_ids: ['n1', 'n2'],
  hint: 'sync the missing contacts',
  systemic: true,
};

const wouldHalt: WouldHaltDoc = {
  page: 1,
  trigger: 'systemic',
  reason: 'systemic: CONTACT_NOT_MAPPED on 96 % of the page',
  failure_rate: 0.96,
  warning_rate: 0,
  diagnosis: cause,
  at_halt: {
    notes_processed: 25,
    notes_migrated: 1,
    notes_skipped: 0,
    notes_failed: 24,
    notes_with_warnings: 0,
    out_of_scope_count: 0,
    failure_rate: 0.96,
    problems_by_reason: { CONTACT_NOT_MAPPED: 24 },
  },
};

const starting: WaveMemberDoc = makeWaveMember({
  cid: '100',
  company_sso_id: 'company-1',
  state: 'starting',
  canary: true,
  run_id: 'run-1',
  attempt_generation: 1,
});

describe('a wave member from its run', () => {
  it("takes a halted run's diagnosis, halt reason and failure rate", () => {
    const run = makeRun({
      status: 'halted',
      halt_reason: 'systemic',
      failure_rate: 0.96,
      halt_diagnosis: cause,
    });
    expect(diagnosisOf(run)).toEqual({
      cause,
      halt_reason: 'systemic',
      failure_rate: 0.96,
      error: null,
      would_halt: null,
    });
  });

  it("takes a failed run's error, with no cause when the run has none", () => {
    const error = { code: 'CRM_EXTRACT_FAILED', message: 'CRM answered 503 five times' };
    expect(diagnosisOf(makeRun({ status: 'failed', error }))).toMatchObject({ cause: null, error });
  });

  it('says where a finished dry run forecasts a real run would halt, and nothing for a clean one', () => {
    const forecast = { ...emptyForecast(false), would_halt: wouldHalt };
    const dry = makeRun({ kind: 'dry_run', status: 'completed_success', forecast });
    expect(diagnosisOf(dry)).toEqual({
      cause,
      halt_reason: null,
      failure_rate: 0.96,
      error: null,
      would_halt: { page: 1, trigger: 'systemic', reason: wouldHalt.reason },
    });
    // Only once it has finished: the wave judges outcomes, not a dry run half-way.
    expect(diagnosisOf({ ...dry, status: 'in_progress' })).toBeNull();
    expect(
      diagnosisOf(makeRun({ kind: 'dry_run', status: 'completed_success', forecast: emptyForecast(false) })),
    ).toBeNull();
    expect(diagnosisOf(makeRun({ status: 'completed_success' }))).toBeNull();
  });

  it('turns a starting member running once, and takes the terminal state and its diagnosis', () => {
    const running = memberChangesFromRun(starting, makeRun({ notes_processed: 5, notes_total: 50 }));
    expect(running).toMatchObject({ state: 'running', run_ids: ['run-1'], attempts: 1, notes_processed: 5 });
    const member = { ...starting, ...running };
    expect(memberChangesFromRun(member, makeRun({ notes_processed: 5, notes_total: 50 }))).toEqual({});
    const halted = memberChangesFromRun(
      member,
      makeRun({ status: 'halted', halt_reason: 'systemic', halt_diagnosis: cause, notes_processed: 25 }),
    );
    expect(halted).toMatchObject({ state: 'halted', diagnosis: { cause } });
    expect(halted.attempts).toBeUndefined();
  });
});
