import { describe, expect, it } from 'vitest';

import {
  assetName,
  assignAssetKeys,
  displayFileName,
  keySegment,
  safeFileName,
} from '../../../src/attachments/asset-key.js';

const src = (url: string, fileName: string | null = null, kind = 'document') => ({ kind, url, fileName });

describe('asset keys', () => {
  it('builds {company_sso_id}/{legacy_crm_note_id}/{asset} with a readable, hashed asset name', () => {
    const [key] = assignAssetKeys('company-1', '42', [
      src('https://files.example/a/Q3 Report.PDF', 'Q3 Report.PDF'),
    ]);
    expect(key).toMatch(/^company-1\/42\/q3-report-[0-9a-f]{12}\.pdf$/);
  });

  it('gives the same key for the same input on every run', () => {
    const inputs = [
      src('https://f.example/1.png', 'a.png', 'image'),
      src('https://f.example/2.pdf', 'b.pdf'),
    ];
    expect(assignAssetKeys('c', '7', inputs)).toEqual(assignAssetKeys('c', '7', inputs));
  });

  it('keeps two attachments that share a file name apart', () => {
    const keys = assignAssetKeys('c', '7', [
      src('https://f.example/x/scan.pdf', 'scan.pdf'),
      src('https://f.example/y/scan.pdf', 'scan.pdf'),
    ]);
    expect(new Set(keys).size).toBe(2);
  });

  it('numbers the same file listed twice, so keys stay unique within the note', () => {
    const same = src('https://f.example/scan.pdf', 'scan.pdf');
    const keys = assignAssetKeys('c', '7', [same, same, same]);
    expect(new Set(keys).size).toBe(3);
    expect(keys[1]).toBe(keys[0]!.replace(/\.pdf$/, '-2.pdf'));
    expect(keys[2]).toBe(keys[0]!.replace(/\.pdf$/, '-3.pdf'));
  });

  it.each([
    '../../etc/passwd',
    '..\\..\\windows\\system32\\x.dll',
    '/absolute/path.pdf',
    '..',
    '.',
    '.htaccess',
    'a/../../b.pdf',
    '%2e%2e%2fsecret.pdf',
    'nul\u0000byte.pdf',
    '\u202Egnp.exe',
  ])('never lets the file name %j escape the note folder', (fileName) => {
    const [key] = assignAssetKeys('c', '7', [src('https://f.example/f', fileName)]);
    const asset = key!.slice('c/7/'.length);
    expect(key!.startsWith('c/7/')).toBe(true);
    expect(asset).toMatch(/^[a-z0-9][a-z0-9._-]*$/);
    expect(asset).not.toContain('/');
    expect(asset.split('.')).not.toContain('');
  });

  it('percent-encodes ids that are not plain, so a crafted id cannot add or climb folders', () => {
    expect(keySegment('..')).toBe('%2E%2E');
    expect(keySegment('a/b')).toBe('a%2Fb');
    expect(keySegment('9f1c-uuid_1')).toBe('9f1c-uuid_1');
    expect(() => keySegment('')).toThrow(/empty/);
  });

  it('folds accents and keeps only safe characters and a bounded length', () => {
    expect(safeFileName('Relatório Médico (final).PDF')).toEqual({
      stem: 'relatorio-medico-final',
      extension: 'pdf',
    });
    expect(safeFileName('日本語.docx')).toEqual({ stem: 'attachment', extension: 'docx' });
    expect(safeFileName(`${'x'.repeat(500)}.pdf`).stem.length).toBeLessThanOrEqual(80);
  });

  it('hashes the kind and URL, so a different URL or kind changes the name', () => {
    const a = assetName(src('https://f.example/a.pdf', 'a.pdf'));
    expect(assetName(src('https://f.example/b.pdf', 'a.pdf'))).not.toBe(a);
    expect(assetName(src('https://f.example/a.pdf', 'a.pdf', 'image'))).not.toBe(a);
  });

  it('takes the display name from CRM, else from the URL path, without directories or control characters', () => {
    expect(displayFileName(src('https://f.example/x/y.pdf', '  Contract.pdf '))).toBe('Contract.pdf');
    expect(displayFileName(src('https://f.example/x/Annual%20Plan.xlsx?sig=abc'))).toBe('Annual Plan.xlsx');
    expect(displayFileName(src('https://f.example/', null))).toBe('attachment');
    expect(displayFileName(src('https://f.example/x', 'dir/evil\u0007.pdf'))).toBe('evil.pdf');
  });
});
