import { describe, expect, it } from 'vitest';

import { MAX_MEMBERS_FILE_BYTES, parseMembersFile } from '../../../src/cli/members-file.js';

const parse = (text: string | Uint8Array) =>
  parseMembersFile(typeof text === 'string' ? new TextEncoder().encode(text) : text, 'members.csv');

describe('members file', () => {
  it('reads a header and one tenant per line; BOM, CRLF, quotes, blank lines and extra columns are fine', () => {
    const text = '\ufeffCID,company_sso_id,name\r\n1001,co-1001,"Acme, Inc."\r\n\r\n"1002", co-1002 ,x\n';
    expect(parse(text)).toEqual({
      ok: true,
      members: [
        { cid: '1001', company_sso_id: 'co-1001' },
        { cid: '1002', company_sso_id: 'co-1002' },
      ],
    });
  });

  it('refuses bad lines with their line numbers, every one of them', () => {
    const text = [
      'cid,company_sso_id',
      '0012,co-1',
      '1001,=HYPERLINK(1)',
      "1002,'; DROP",
      '1003,co-3',
      '1003,co-3b',
      '{$ne:1},co-4',
    ].join('\n');
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.stringMatching(/line 2: cid must be a positive integer, got "0012"/),
      expect.stringMatching(/line 3: company_sso_id must be/),
      expect.stringMatching(/line 4: company_sso_id must be/),
      expect.stringMatching(/line 6: cid 1003 is listed already on line 5/),
      expect.stringMatching(/line 7: cid must be a positive integer/),
    ]);
  });

  it('refuses a file without the two columns, an empty one, broken CSV, binary and oversized files', () => {
    const problem = (input: string | Uint8Array) => {
      const r = parse(input);
      return r.ok ? null : r.problems.join('\n');
    };
    expect(problem('tenant,company\n1,co-1\n')).toMatch(
      /header must name the columns cid and company_sso_id/,
    );
    expect(problem('')).toMatch(/lists no members/);
    expect(problem('cid,company_sso_id\n')).toMatch(/lists no members/);
    expect(problem('cid,company_sso_id\n1,co-1,extra\n')).toMatch(/not valid CSV \(line 2\)/);
    expect(problem('cid,company_sso_id\n1,"co-1\n')).toMatch(/not valid CSV/);
    expect(problem(new Uint8Array([0x63, 0x69, 0xff, 0xfe, 0x00]))).toMatch(/not UTF-8/);
    expect(problem(new Uint8Array(MAX_MEMBERS_FILE_BYTES + 1))).toMatch(/at most/);
  });

  it('refuses more members than a wave may have, and lists at most 20 problems', () => {
    const many = [
      'cid,company_sso_id',
      ...Array.from({ length: 5_001 }, (_, i) => `${i + 1},co-${i + 1}`),
    ].join('\n');
    expect(parse(many)).toMatchObject({ ok: false, problems: [expect.stringMatching(/at most 5000/)] });
    const bad = ['cid,company_sso_id', ...Array.from({ length: 50 }, () => 'x,co')].join('\n');
    const r = parse(bad);
    expect(r.ok ? [] : r.problems).toHaveLength(21);
  });
});
