import { describe, expect, it } from 'vitest';

import { checkFileType, detectFileType, looksLikeText } from '../../../src/attachments/type-check.js';
import type { AttachmentType } from '../../../src/domain.js';
import {
  CFB_BYTES,
  DOCX_BYTES,
  EXE_BYTES,
  JPEG_BYTES,
  MP4_BYTES,
  PDF_BYTES,
  PLAIN_ZIP_BYTES,
  PNG_BYTES,
  TEXT_BYTES,
  WAV_BYTES,
  XLSX_BYTES,
} from '../../fixtures/attachment-bytes.js';

async function check(type: AttachmentType, extension: string | null, bytes: Buffer) {
  return checkFileType({ type, extension, detected: await detectFileType(bytes), head: bytes });
}

describe('magic-byte type check', () => {
  it.each<[AttachmentType, string | null, string, Buffer, string]>([
    ['pdf', 'pdf', 'PDF bytes', PDF_BYTES, 'application/pdf'],
    ['image', 'png', 'PNG bytes', PNG_BYTES, 'image/png'],
    ['image', 'png', 'JPEG bytes', JPEG_BYTES, 'image/jpeg'], // an image is an image; stored as what it is
    ['voice_note', 'wav', 'WAV bytes', WAV_BYTES, 'audio/wav'],
    ['voice_note', 'm4a', 'MP4 bytes', MP4_BYTES, 'video/mp4'], // audio may arrive in a video container
    ['video', 'mp4', 'MP4 bytes', MP4_BYTES, 'video/mp4'],
    [
      'xlsx',
      'xlsx',
      'OOXML spreadsheet bytes',
      XLSX_BYTES,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ],
    ['xlsx', 'xls', 'OLE2 bytes', CFB_BYTES, 'application/x-cfb'],
    [
      'xlsx',
      null,
      'OOXML spreadsheet bytes',
      XLSX_BYTES,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ],
    [
      'doc',
      'docx',
      'OOXML document bytes',
      DOCX_BYTES,
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ],
    ['doc', 'doc', 'OLE2 bytes', CFB_BYTES, 'application/x-cfb'],
    ['doc', 'txt', 'UTF-8 text', TEXT_BYTES, 'text/plain; charset=utf-8'],
    ['doc', 'csv', 'UTF-8 text', TEXT_BYTES, 'text/plain; charset=utf-8'],
    ['doc', null, 'UTF-8 text', TEXT_BYTES, 'text/plain; charset=utf-8'],
    ['doc', null, 'PDF bytes', PDF_BYTES, 'application/pdf'],
    ['doc', 'png', 'PNG bytes', PNG_BYTES, 'image/png'], // an image filed as a document keeps its own type
    ['doc', 'jpeg', 'JPEG bytes', JPEG_BYTES, 'image/jpeg'],
    ['doc', 'zip', 'zip bytes', PLAIN_ZIP_BYTES, 'application/zip'],
  ])('accepts %s .%s with %s, stored as %s', async (type, extension, _label, bytes, contentType) => {
    expect(await check(type, extension, bytes)).toEqual({ ok: true, contentType });
  });

  it.each<[AttachmentType, string | null, string, Buffer]>([
    ['pdf', 'pdf', 'PNG bytes', PNG_BYTES],
    ['pdf', 'pdf', 'text', TEXT_BYTES],
    ['image', 'png', 'PDF bytes', PDF_BYTES],
    [
      'image',
      'svg',
      'text (SVG has no magic and can carry script)',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ],
    ['voice_note', 'mp3', 'PDF bytes', PDF_BYTES],
    ['video', 'mp4', 'PNG bytes', PNG_BYTES],
    ['xlsx', 'xlsx', 'OOXML document bytes', DOCX_BYTES],
    ['xlsx', 'xlsx', 'plain zip bytes', PLAIN_ZIP_BYTES],
    ['xlsx', 'xls', 'OOXML spreadsheet bytes', XLSX_BYTES],
    ['doc', 'docx', 'plain zip bytes', PLAIN_ZIP_BYTES],
    ['doc', 'docx', 'PDF bytes', PDF_BYTES],
    ['doc', 'doc', 'text', TEXT_BYTES],
    ['doc', 'txt', 'PNG bytes', PNG_BYTES],
    ['doc', 'txt', 'binary without a signature', Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x00])],
    ['doc', 'exe', 'an executable, even when the extension agrees', EXE_BYTES],
    ['doc', null, 'an executable', EXE_BYTES],
    ['doc', null, 'OLE2 bytes (no extension says which Office file)', CFB_BYTES],
    ['doc', 'png', 'JPEG bytes', JPEG_BYTES],
  ])('rejects %s .%s with %s', async (type, extension, _label, bytes) => {
    const result = await check(type, extension, bytes);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/expected|executable/);
  });

  it('names what it expected and what it found', async () => {
    expect(await check('pdf', 'pdf', PNG_BYTES)).toEqual({
      ok: false,
      message: 'declared pdf (.pdf) but bytes are image/png (png); expected a PDF',
    });
  });

  it('treats valid UTF-8 with a character cut at the end of the sample as text, and NULs as binary', () => {
    const text = Buffer.from('héllo wörld', 'utf8');
    expect(looksLikeText(text.subarray(0, 2))).toBe(true); // "h" + first byte of "é"
    expect(looksLikeText(Buffer.from('a\0b'))).toBe(false);
    expect(looksLikeText(Buffer.from([0xc3, 0x28]))).toBe(false); // invalid UTF-8
    expect(looksLikeText(Buffer.from('\x01\x02\x03\x04abc'))).toBe(false); // mostly control bytes
  });

  it.each(['constructor', '__proto__', 'tostring', 'hasownproperty'])(
    'reads a document extension %j as unknown, never as an inherited table entry (#18)',
    async (extension) => {
      // Unknown extension: judged by what the bytes are (PDF passes, an executable never does).
      expect(await check('doc', extension, PDF_BYTES)).toMatchObject({ ok: true });
      expect(await check('doc', extension, EXE_BYTES)).toMatchObject({ ok: false });
    },
  );
});
