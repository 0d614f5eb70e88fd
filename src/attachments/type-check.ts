/**
 * Do the bytes agree with what CRM declared? `file-type` reads the magic bytes; the rules below
 * decide what agreement means per CDP type. Also picks the content type the upload is stored with:
 * always the detected one, never CRM's claim (and never something a browser would run).
 */
import { fileTypeFromBuffer } from 'file-type';

import type { AttachmentType } from '../domain.js';

export interface DetectedType {
  ext: string;
  mime: string;
}

export type TypeCheck = { ok: true; contentType: string } | { ok: false; message: string };

export interface TypeCheckInput {
  type: AttachmentType;
  /** Declared extension (file name, else URL), lower case, or null. */
  extension: string | null;
  /** What `file-type` found, or undefined when the bytes have no known signature. */
  detected: DetectedType | undefined;
  /** The first bytes of the file (a few KiB are enough), for the plain-text test. */
  head: Uint8Array;
}

/** How many leading bytes the plain-text test reads. */
export const TEXT_SNIFF_BYTES = 8 * 1024;

/** Magic-byte detection over the whole downloaded buffer (OOXML needs the zip directory). */
export async function detectFileType(bytes: Uint8Array): Promise<DetectedType | undefined> {
  const found = await fileTypeFromBuffer(bytes);
  return found ? { ext: found.ext, mime: found.mime } : undefined;
}

const TEXT = 'text';
const PLAIN_TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * What a document's extension promises its bytes are. `cfb` is the OLE2 container of legacy
 * Office files (.doc, .xls, .ppt, .msg). `text` means no signature at all and bytes that read
 * as UTF-8 text; `xml`, `vcf`, `ics`, `vtt` are the text formats file-type does recognise.
 */
const DOCUMENT_EXPECTATIONS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    pdf: ['pdf'],
    xlsx: ['xlsx'],
    xlsm: ['xlsm', 'xlsx'],
    xltx: ['xltx', 'xlsx'],
    xltm: ['xltm', 'xlsx'],
    xls: ['cfb'],
    docx: ['docx'],
    docm: ['docm', 'docx'],
    dotx: ['dotx', 'docx'],
    pptx: ['pptx'],
    pptm: ['pptm', 'pptx'],
    ppsx: ['ppsx', 'pptx'],
    doc: ['cfb'],
    ppt: ['cfb'],
    msg: ['cfb'],
    odt: ['odt'],
    ods: ['ods'],
    odp: ['odp'],
    rtf: ['rtf'],
    epub: ['epub'],
    zip: ['zip'],
    txt: [TEXT],
    csv: [TEXT],
    tsv: [TEXT],
    md: [TEXT],
    log: [TEXT],
    json: [TEXT],
    xml: ['xml', TEXT],
    vcf: ['vcf', TEXT],
    ics: ['ics', TEXT],
  }),
);

const SPREADSHEET_EXTENSIONS = new Set(['xlsx', 'xlsm', 'xltx', 'xltm', 'xls']);

/** Documents with no (or an unknown) extension: only these detections pass. */
const UNLABELLED_DOCUMENT_TYPES = new Set([
  'pdf',
  'docx',
  'xlsx',
  'pptx',
  'odt',
  'ods',
  'odp',
  'rtf',
  'epub',
  TEXT,
]);

/** Never re-hosted, whatever the extension says: programs and installers. */
const NEVER_ACCEPTED = new Set([
  'exe',
  'elf',
  'macho',
  'class',
  'jar',
  'apk',
  'swf',
  'wasm',
  'crx',
  'xpi',
  'deb',
  'rpm',
  'lnk',
  'reg',
  'dmg',
]);

/** file-type's name for an extension people write differently. */
const EXTENSION_ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries({ jpeg: 'jpg', tiff: 'tif', mpeg: 'mpg', oga: 'ogg' }),
);

/** Media types a browser would execute or render as a page: stored as plain text instead. */
const ACTIVE_CONTENT_TYPES = new Set(['application/xml', 'text/xml', 'image/svg+xml', 'text/html']);

/**
 * The rules: an `image` must detect as `image/*`; `voice_note` and `video` as `audio/*` or
 * `video/*` (CRM files voice notes recorded as mp4 or webm); `pdf` as PDF; `xlsx` as OOXML
 * spreadsheet (or OLE2 for `.xls`); a `doc` as what its extension promises (table above), as
 * any format whose own extension it carries (a `.png` filed as a document), or, unlabelled, as a
 * common document format or plain text. Programs never pass.
 */
export function checkFileType(input: TypeCheckInput): TypeCheck {
  const { detected } = input;
  const seen = detected ? `${detected.mime} (${detected.ext})` : 'no known signature';
  if (detected && NEVER_ACCEPTED.has(detected.ext)) {
    return { ok: false, message: `bytes are an executable or installer: ${seen}` };
  }
  const mismatch = (expected: string): TypeCheck => ({
    ok: false,
    message: `declared ${input.type}${input.extension ? ` (.${input.extension})` : ''} but bytes are ${seen}; expected ${expected}`,
  });
  switch (input.type) {
    case 'image':
      return detected?.mime.startsWith('image/') ? accepted(detected) : mismatch('an image');
    case 'voice_note':
    case 'video':
      return detected && isAudioOrVideo(detected.mime) ? accepted(detected) : mismatch('audio or video');
    case 'pdf':
      return detected?.ext === 'pdf' ? accepted(detected) : mismatch('a PDF');
    case 'xlsx': {
      // Mapped by extension: what that extension promises. By content type only: any spreadsheet.
      const byExtension = SPREADSHEET_EXTENSIONS.has(input.extension ?? '')
        ? DOCUMENT_EXPECTATIONS.get(input.extension ?? '')
        : undefined;
      const wanted = byExtension ?? ['xlsx', 'xlsm', 'xltx', 'xltm', 'cfb'];
      return detected && wanted.includes(detected.ext) ? accepted(detected) : mismatch(wanted.join(' or '));
    }
    case 'doc':
      return checkDocument(input, mismatch);
  }
}

function checkDocument(input: TypeCheckInput, mismatch: (expected: string) => TypeCheck): TypeCheck {
  const { detected } = input;
  const ext = input.extension === null ? null : (EXTENSION_ALIASES.get(input.extension) ?? input.extension);
  const isText = detected === undefined && looksLikeText(input.head);
  const found = detected?.ext ?? (isText ? TEXT : null);
  const expected = ext === null ? undefined : DOCUMENT_EXPECTATIONS.get(ext);
  if (expected) {
    return found !== null && expected.includes(found)
      ? acceptedOrText(detected)
      : mismatch(expected.join(' or '));
  }
  if (ext !== null && detected?.ext === ext) return acceptedOrText(detected);
  if (found !== null && UNLABELLED_DOCUMENT_TYPES.has(found)) return acceptedOrText(detected);
  return mismatch(ext === null ? 'a document format or plain text' : `.${ext} content`);
}

function isAudioOrVideo(mime: string): boolean {
  return mime.startsWith('audio/') || mime.startsWith('video/') || mime === 'application/ogg';
}

function accepted(detected: DetectedType): TypeCheck {
  return {
    ok: true,
    contentType: ACTIVE_CONTENT_TYPES.has(detected.mime) ? PLAIN_TEXT_CONTENT_TYPE : detected.mime,
  };
}

function acceptedOrText(detected: DetectedType | undefined): TypeCheck {
  return detected ? accepted(detected) : { ok: true, contentType: PLAIN_TEXT_CONTENT_TYPE };
}

/**
 * Plain text has no magic bytes, so "no signature" alone proves nothing: the head must also be
 * valid UTF-8 (a character cut at the end of the sample is fine) with no NUL and almost no
 * other control characters. UTF-16 text fails this on purpose (it is full of NULs).
 */
export function looksLikeText(head: Uint8Array): boolean {
  const sample = head.subarray(0, TEXT_SNIFF_BYTES);
  let controls = 0;
  for (const byte of sample) {
    if (byte === 0) return false;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) controls += 1;
  }
  if (controls > sample.length / 100) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return true;
  } catch {
    return false;
  }
}
