import { describe, expect, it } from 'vitest';

import { CID_INPUT_PATTERN, COMPANY_INPUT_PATTERN } from '../../../../src/http/console/start-form.js';
import { ratePointsOf, renderBarChart, renderRateChart } from '../../../../src/http/console/svg-charts.js';
import { CID_PATTERN, COMPANY_SSO_ID_PATTERN } from '../../../../src/http/parse-input.js';
import { formatDuration, notesPerSecond, toTenantItem } from '../../../../src/http/tenant-view.js';
import { makeRun } from '../../../fixtures/builders.js';
import { findActiveMarkup, textOf } from '../../../helpers/page-inertness.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('tenant view figures (#17)', () => {
  it('measures notes/s over the timeline entries and the time left at that rate', () => {
    const timeline = [
      { page: 1, at: at(10), notes_processed: 500 },
      { page: 2, at: at(12), notes_processed: 1000 },
      { page: 3, at: at(14), notes_processed: 1500 },
    ];
    expect(notesPerSecond(timeline)).toBe(250);
    expect(notesPerSecond(timeline.slice(0, 1))).toBeNull();
    const item = toTenantItem(makeRun({ notes_total: 4000, notes_processed: 1500, page_timeline: timeline }));
    expect(item).toMatchObject({ notes_per_s: 250, eta_s: 10 });
    expect(item.display).toMatchObject({
      rate: '250.0 notes/s',
      eta: '10 s',
      notes: '1,500 / 4,000',
      status: 'in progress',
    });
  });

  it('shows no rate or time left for a finished run, and the halt reason as its hint', () => {
    const item = toTenantItem(makeRun({ status: 'halted', halt_reason: 'too many', notes_total: 10 }));
    expect(item).toMatchObject({ notes_per_s: null, eta_s: null, hint: 'too many' });
    expect(item.display).toMatchObject({ rate: '—', eta: '—', match: '—', status: 'halted' });
  });

  it('formats durations in the largest two units', () => {
    expect(formatDuration(12)).toBe('12 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3 h 02 min');
  });
});

describe('console charts (#17)', () => {
  it('computes notes/s per page, the first from the start only when the run began at zero', () => {
    const timeline = [
      { page: 1, at: at(4), notes_processed: 400 },
      { page: 2, at: at(6), notes_processed: 600 },
    ];
    expect(ratePointsOf(timeline, at(0), 0)).toEqual([
      { elapsedS: 4, notesPerS: 100 },
      { elapsedS: 6, notesPerS: 100 },
    ]);
    expect(ratePointsOf(timeline, at(0), null)).toEqual([{ elapsedS: 6, notesPerS: 100 }]);
  });

  it('renders labels as text and no active markup', () => {
    const bars = renderBarChart('<script>t</script>', [
      { label: '"><img src=x onerror=alert(1)>', value: 3, category: 'failure' },
    ]);
    expect(findActiveMarkup(bars.markup)).toEqual([]);
    expect(textOf(bars.markup)).toContain('"><img src=x onerror=alert(1)>');
    expect(findActiveMarkup(renderRateChart('x', [{ elapsedS: 1, notesPerS: 2 }]).markup)).toEqual([]);
  });
});

describe('start form input patterns', () => {
  it('accept exactly what the API accepts, compiled with the v flag as browsers do', () => {
    const cid = new RegExp(`^(?:${CID_INPUT_PATTERN})$`, 'v');
    const company = new RegExp(`^(?:${COMPANY_INPUT_PATTERN})$`, 'v');
    for (const value of ['1', '1001', '9'.repeat(19), '0', '01', '1a', '', '-1', '1'.repeat(20)]) {
      expect(cid.test(value), value).toBe(CID_PATTERN.test(value));
    }
    for (const value of [
      'demo-company',
      'a.b_c:d@e-f',
      'A',
      '-x',
      '.x',
      'a b',
      'a/b',
      'x'.repeat(128),
      'x'.repeat(129),
    ]) {
      expect(company.test(value), value).toBe(COMPANY_SSO_ID_PATTERN.test(value));
    }
  });
});
