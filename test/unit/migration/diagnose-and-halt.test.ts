import { describe, expect, it } from 'vitest';

import type { RunCounters } from '../../../src/db/documents.js';
import { EMPTY_COUNTERS } from '../../../src/db/runs-repository.js';
import { diagnose, DIAGNOSIS_HINTS, type DiagnosisFigures } from '../../../src/migration/diagnose.js';
import { checkHalt } from '../../../src/migration/halt-check.js';
import type { Problem } from '../../../src/migration/prepare-notes.js';
import { addProblems, EMPTY_PROBLEM_TALLY } from '../../../src/migration/problem-tally.js';
import { addPage } from '../../../src/migration/run-counters.js';

const THRESHOLDS = { maxFailureRate: 0.01, maxWarningRate: 0.5 };

function problems(code: Problem['reasonCode'], n: number, from = 1): Problem[] {
  return Array.from({ length: n }, (_, i) => ({ noteId: String(from + i), reasonCode: code, details: {} }));
}

function figures(overrides: Partial<DiagnosisFigures> & { problems?: Problem[] } = {}): DiagnosisFigures {
  const { problems: list = [], ...rest } = overrides;
  return {
    companySsoId: 'co-7',
    inScope: 500,
    tally: addProblems(EMPTY_PROBLEM_TALLY, list),
    persons: { seen: 412, found: 3 },
    attachments: { total: 0, blocked: 0, blockedHosts: [] },
    ...rest,
  };
}

/** Counters after one page of `inScope` notes with these failed and warned counts. */
function counters(inScope: number, failed: number, withWarnings = 0): RunCounters {
  return addPage(
    EMPTY_COUNTERS,
    { seen: inScope, migrated: inScope - failed, skipped: 0, failed, outOfScope: 0, withWarnings },
    inScope,
  );
}

describe('diagnose (DESIGN.md §11.4)', () => {
  it('names contacts missing for most notes as systemic, with the company, the persons found and samples', () => {
    const d = diagnose(figures({ problems: problems('CONTACT_NOT_MAPPED', 250) }));
    expect(d).toMatchObject({
      reason_code: 'CONTACT_NOT_MAPPED',
      share: 0.5,
      count: 250,
      systemic: true,
      sample_note_ids: ['1', '2', '3', '4', '5'],
    });
    expect(d?.hint).toBe(
      'contacts of company co-7 are not in CDP: 3 of 412 persons found by crm_data.id (250 of 500 notes unmapped) — sync contacts first',
    );
  });

  it('names most payloads invalid as systemic, ahead of missing contacts', () => {
    const d = diagnose(
      figures({
        problems: [...problems('CRM_PAYLOAD_INVALID', 300), ...problems('CONTACT_NOT_MAPPED', 200, 1000)],
      }),
    );
    expect(d).toMatchObject({ reason_code: 'CRM_PAYLOAD_INVALID', systemic: true, share: 0.6 });
    expect(d?.hint).toContain('300 of 500 CRM notes of company co-7 (60.0 %) break the payload contract');
  });

  it('names every attachment blocked as systemic, with the hosts and their counts', () => {
    const d = diagnose(
      figures({
        problems: problems('ATTACHMENT_SSRF_BLOCKED', 9),
        attachments: {
          total: 12,
          blocked: 12,
          blockedHosts: [
            { host: 'files.cdn.example', count: 10 },
            { host: '169.254.169.254', count: 2 },
          ],
        },
      }),
    );
    expect(d).toMatchObject({ reason_code: 'ATTACHMENT_SSRF_BLOCKED', systemic: true, share: 1, count: 12 });
    expect(d?.hint).toContain('the allow-list misses host files.cdn.example (10), 169.254.169.254 (2)');
  });

  it('calls nothing systemic below its minimum evidence: 19 notes, 4 attachments, 49.8 %', () => {
    expect(diagnose(figures({ inScope: 19, problems: problems('CONTACT_NOT_MAPPED', 19) }))?.systemic).toBe(
      false,
    );
    const four = { total: 4, blocked: 4, blockedHosts: [{ host: 'h', count: 4 }] };
    expect(
      diagnose(figures({ attachments: four, problems: problems('ATTACHMENT_SSRF_BLOCKED', 4) }))?.systemic,
    ).toBe(false);
    expect(diagnose(figures({ problems: problems('CONTACT_NOT_MAPPED', 249) }))?.systemic).toBe(false);
    const most = { total: 20, blocked: 19, blockedHosts: [{ host: 'h', count: 19 }] };
    expect(diagnose(figures({ attachments: most }))).toBeNull();
  });

  it('otherwise names the dominant failure, then the dominant warning, each with its hint', () => {
    const d = diagnose(
      figures({
        problems: [
          ...problems('NOTE_TOO_LONG', 3),
          ...problems('CONTACT_NOT_MAPPED', 2, 100),
          ...problems('OWNER_NOT_MAPPED', 40, 200),
        ],
      }),
    );
    expect(d).toMatchObject({ reason_code: 'NOTE_TOO_LONG', count: 3, share: 3 / 500, systemic: false });
    expect(d?.hint).toContain('(3 of 5 failure records, 0.6 % of 500 in-scope notes)');
    expect(d?.hint).toContain(DIAGNOSIS_HINTS.NOTE_TOO_LONG);
    expect(diagnose(figures({ problems: problems('OWNER_NOT_MAPPED', 40) }))).toMatchObject({
      reason_code: 'OWNER_NOT_MAPPED',
      systemic: false,
    });
    expect(
      diagnose(figures({ problems: problems('OWNER_NOT_MAPPED', 40) }), undefined, 'failure'),
    ).toBeNull();
    expect(diagnose(figures())).toBeNull();
  });

  it('has a hint for every note reason code', () => {
    for (const hint of Object.values(DIAGNOSIS_HINTS)) expect(hint.length).toBeGreaterThan(20);
  });
});

describe('halt check: systemic → failure rate → warning rate', () => {
  const check = (c: RunCounters, pageProblems: Problem[], runProblems = pageProblems, page = 1) =>
    checkHalt(
      {
        companySsoId: 'co-7',
        counters: c,
        page,
        pageFigures: figures({ inScope: c.notes_processed, problems: pageProblems }),
        runTally: addProblems(EMPTY_PROBLEM_TALLY, runProblems),
      },
      THRESHOLDS,
    );

  it('halts a systemic page with its diagnosis, whatever the failure rate', () => {
    const v = check(counters(500, 400), problems('CONTACT_NOT_MAPPED', 400));
    expect(v).toMatchObject({
      trigger: 'systemic',
      diagnosis: { reason_code: 'CONTACT_NOT_MAPPED', systemic: true },
    });
    expect(v?.reason).toMatch(
      /^systemic CONTACT_NOT_MAPPED on page 1: contacts of company co-7 are not in CDP/,
    );
  });

  it('halts scattered failures by rate only, naming the dominant failure of the run', () => {
    const page = [...problems('NOTE_TOO_LONG', 4), ...problems('CONTACT_NOT_MAPPED', 2, 50)];
    const v = check(counters(300, 6), page);
    expect(v).toMatchObject({
      trigger: 'failure_rate',
      diagnosis: { reason_code: 'NOTE_TOO_LONG', systemic: false },
    });
    expect(v?.reason).toBe('failure_rate 0.0200 > MAX_FAILURE_RATE 0.01 after page 1');
  });

  it('tolerates exactly 1 % of failures and halts on warnings above MAX_WARNING_RATE', () => {
    expect(check(counters(300, 3), problems('NOTE_TOO_LONG', 3))).toBeNull();
    const warned = counters(100, 0, 51);
    const v = check(warned, problems('OWNER_NOT_MAPPED', 51));
    expect(v).toMatchObject({ trigger: 'warning_rate', diagnosis: { reason_code: 'OWNER_NOT_MAPPED' } });
    expect(v?.reason).toBe('warning_rate 0.5100 > MAX_WARNING_RATE 0.5 after page 1');
    expect(check(counters(100, 0, 50), problems('OWNER_NOT_MAPPED', 50))).toBeNull();
  });

  it('judges systemic causes on the page, not the run: a bad page 9 halts a run under its failure limit', () => {
    const c = addPage(
      counters(4000, 0),
      { seen: 500, migrated: 200, skipped: 0, failed: 300, outOfScope: 0, withWarnings: 0 },
      4500,
    );
    const bad = problems('CONTACT_NOT_MAPPED', 300);
    const input = {
      companySsoId: 'co-7',
      counters: c,
      page: 9,
      pageFigures: figures({ inScope: 500, problems: bad }),
      runTally: addProblems(EMPTY_PROBLEM_TALLY, bad),
    };
    const lenient = { maxFailureRate: 0.1, maxWarningRate: 0.5 };
    expect(c.failure_rate).toBeLessThan(lenient.maxFailureRate);
    expect(checkHalt(input, lenient)?.trigger).toBe('systemic');
    // The same run figures without the bad page's concentration: no halt.
    const spread = { ...input, pageFigures: figures({ inScope: 4500, problems: bad }) };
    expect(checkHalt(spread, lenient)).toBeNull();
  });
});
