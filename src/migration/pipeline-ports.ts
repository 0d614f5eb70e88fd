/**
 * What the page pipeline needs from the normalizer and the attachment re-hoster, stated from
 * the pipeline's side (dependency inversion): `normalize/` and `attachments/` satisfy these
 * shapes, and unit tests pass plain functions.
 */
import type { NoteAttachmentDoc } from '../db/documents.js';
import type { AttachmentProblemCode } from '../domain.js';

export type NormalizeHtmlResult =
  | { ok: true; html: string; hasVisibleText: boolean }
  | { ok: false; reasonCode: 'NOTE_TOO_LONG'; details: { length: number; maxLength: number } };

export type NormalizeHtml = (html: string) => NormalizeHtmlResult;

export type AttachmentKind = 'image' | 'audio' | 'document';

export interface AttachmentInput {
  kind: AttachmentKind;
  url: string;
  fileName: string | null;
  contentType: string | null;
  size: number | null;
}

export interface AttachmentProblemReport {
  reasonCode: AttachmentProblemCode;
  url: string;
  fileName: string | null;
  message: string;
}

export interface AttachmentRehoster {
  process(
    companySsoId: string,
    legacyCrmNoteId: string,
    inputs: readonly AttachmentInput[],
    signal?: AbortSignal,
  ): Promise<{ attachments: NoteAttachmentDoc[]; problems: AttachmentProblemReport[] }>;
}
