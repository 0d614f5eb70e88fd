import { describe, expect, it } from 'vitest';

import { neutralizeCsvCell } from '../../../src/http/failure-routes.js';

describe('CSV cells', () => {
  it('prefixes cells a spreadsheet would run as a formula', () => {
    for (const cell of ['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\t=x', '\r=x']) {
      expect(neutralizeCsvCell(cell)).toBe(`'${cell}`);
    }
  });

  it('leaves ordinary cells alone', () => {
    for (const cell of ['', '123', 'CONTACT_NOT_MAPPED', '2026-01-01T00:00:00.000Z', '{"a":"=b"}', 'a=b']) {
      expect(neutralizeCsvCell(cell)).toBe(cell);
    }
  });
});
