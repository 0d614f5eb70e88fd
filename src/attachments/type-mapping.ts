/**
 * CRM attachment → the one CDP attachment type it becomes (DESIGN.md §8). Pure: it reads only
 * what CRM declared (kind, file name, content type); the magic-byte check comes later.
 */
import type { AttachmentType } from '../domain.js';

/** Which CRM list an attachment came from: `crm_note_images`, `crm_note_audios`, `crm_note_attachments`. */
export const CRM_ATTACHMENT_KINDS = ['image', 'audio', 'document'] as const;
export type CrmAttachmentKind = (typeof CRM_ATTACHMENT_KINDS)[number];

export interface TypeMappingInput {
  kind: CrmAttachmentKind;
  /** Lower-case extension without the dot, from the file name or else the URL path. */
  extension: string | null;
  /** CRM's declared content type, as given (parameters allowed). */
  contentType: string | null;
}

/** Extensions that make an audio attachment a `video` when CRM declares no content type. */
const VIDEO_EXTENSIONS = new Set(['mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi', '3gp', '3g2', 'mpg', 'mpeg']);
const PDF_EXTENSIONS = new Set(['pdf']);
/** Spreadsheets, old and new, all become `xlsx` (the CDP's spreadsheet type). CSV stays `doc`. */
const SPREADSHEET_EXTENSIONS = new Set(['xlsx', 'xlsm', 'xltx', 'xltm', 'xls']);
const SPREADSHEET_CONTENT_TYPES = new Set([
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.template',
  'application/vnd.ms-excel.sheet.macroenabled.12',
  'application/vnd.ms-excel',
]);

/** `Image/PNG; charset=x` → `image/png`. */
export function mediaTypeEssence(contentType: string | null): string | null {
  const essence = contentType?.split(';')[0]?.trim().toLowerCase();
  return essence ? essence : null;
}

/** The lower-case extension of a file name, or of the URL's last path segment when there is no name. */
export function fileExtensionOf(fileName: string | null, url: string): string | null {
  const fromName = extensionOfName(fileName);
  if (fromName !== null || (fileName !== null && fileName.trim() !== '')) return fromName;
  try {
    const segment = new URL(url).pathname.split('/').pop() ?? '';
    return extensionOfName(safeDecode(segment));
  } catch {
    return null;
  }
}

function extensionOfName(name: string | null): string | null {
  const base = name?.trim().split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || dot === base.length - 1) return null;
  const ext = base.slice(dot + 1).toLowerCase();
  return /^[a-z0-9]{1,10}$/.test(ext) ? ext : null;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Images → `image`. Audios → `voice_note`, or `video` when CRM says `video/*` (or, with no content
 * type, the extension is a video one). Documents → `pdf` or `xlsx` by extension first (a known
 * extension is the stronger signal), then by content type; anything else is `doc`.
 */
export function mapAttachmentType(input: TypeMappingInput): AttachmentType {
  const essence = mediaTypeEssence(input.contentType);
  const ext = input.extension;
  switch (input.kind) {
    case 'image':
      return 'image';
    case 'audio':
      if (essence?.startsWith('video/')) return 'video';
      if (essence === null && ext !== null && VIDEO_EXTENSIONS.has(ext)) return 'video';
      return 'voice_note';
    case 'document':
      if (ext !== null && PDF_EXTENSIONS.has(ext)) return 'pdf';
      if (ext !== null && SPREADSHEET_EXTENSIONS.has(ext)) return 'xlsx';
      if (ext === null || !KNOWN_DOCUMENT_EXTENSIONS.has(ext)) {
        if (essence === 'application/pdf') return 'pdf';
        if (essence !== null && SPREADSHEET_CONTENT_TYPES.has(essence)) return 'xlsx';
      }
      return 'doc';
  }
}

/**
 * Extensions that settle a document's type on their own, so a contradicting content type is
 * ignored (a `.docx` sent as `application/pdf` is a doc; the magic bytes decide if it is one).
 */
const KNOWN_DOCUMENT_EXTENSIONS = new Set([
  'doc',
  'docx',
  'docm',
  'dotx',
  'ppt',
  'pptx',
  'pptm',
  'ppsx',
  'odt',
  'ods',
  'odp',
  'rtf',
  'txt',
  'csv',
  'tsv',
  'md',
  'json',
  'xml',
  'log',
  'epub',
  'msg',
  'zip',
]);
