import { describe, expect, it } from 'vitest';

import {
  type CrmAttachmentKind,
  fileExtensionOf,
  mapAttachmentType,
} from '../../../src/attachments/type-mapping.js';
import { ATTACHMENT_TYPES } from '../../../src/domain.js';

describe('attachment type mapping', () => {
  it.each<[CrmAttachmentKind, string | null, string | null, string]>([
    ['image', 'png', 'image/png', 'image'],
    ['image', null, null, 'image'],
    ['image', 'pdf', 'application/pdf', 'image'], // the CRM list decides; the magic bytes check later
    ['audio', 'm4a', 'audio/mp4', 'voice_note'],
    ['audio', 'mp3', null, 'voice_note'],
    ['audio', 'webm', 'audio/webm', 'voice_note'],
    ['audio', 'mp4', 'video/mp4', 'video'],
    ['audio', null, 'Video/QuickTime; codecs=x', 'video'],
    ['audio', 'mov', null, 'video'],
    ['audio', 'mp4', 'audio/mp4', 'voice_note'], // a declared audio type wins over a video-ish extension
    ['document', 'pdf', null, 'pdf'],
    ['document', 'pdf', 'application/octet-stream', 'pdf'],
    ['document', null, 'application/pdf', 'pdf'],
    ['document', 'bin', 'application/pdf', 'pdf'],
    ['document', 'xlsx', null, 'xlsx'],
    ['document', 'xls', 'application/vnd.ms-excel', 'xlsx'],
    ['document', null, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
    ['document', 'docx', 'application/pdf', 'doc'], // a known extension beats the content type
    ['document', 'doc', 'application/msword', 'doc'],
    ['document', 'txt', 'text/plain', 'doc'],
    ['document', 'csv', 'text/csv', 'doc'],
    ['document', null, null, 'doc'],
    ['document', 'png', 'image/png', 'doc'],
    ['document', 'mp4', 'video/mp4', 'doc'],
  ])('maps %s with .%s and %s to %s', (kind, extension, contentType, expected) => {
    expect(mapAttachmentType({ kind, extension, contentType })).toBe(expected);
  });

  it('always answers one of the CDP attachment types', () => {
    const kinds: CrmAttachmentKind[] = ['image', 'audio', 'document'];
    const extensions = [null, 'pdf', 'xlsx', 'exe', 'svg', 'mp4', 'zip', 'weird'];
    const contentTypes = [null, 'text/html', 'video/mp4', 'application/pdf', 'garbage', ''];
    for (const kind of kinds)
      for (const extension of extensions)
        for (const contentType of contentTypes)
          expect(ATTACHMENT_TYPES).toContain(mapAttachmentType({ kind, extension, contentType }));
  });

  it.each([
    ['Report.PDF', 'https://x/y', 'pdf'],
    [null, 'https://files.example/a/b/Quarterly%20Report.XLSX?sig=1', 'xlsx'],
    [null, 'https://files.example/a/b/', null],
    ['no-extension', 'https://x/file.pdf', null], // a file name wins, even without an extension
    ['.hidden', 'https://x/y', null],
    ['archive.tar.gz', 'https://x/y', 'gz'],
    ['dir/evil.exe', 'https://x/y', 'exe'],
  ])('reads the extension of %s (url %s) as %s', (fileName, url, ext) => {
    expect(fileExtensionOf(fileName, url)).toBe(ext);
  });
});
