/**
 * The CRM note as the rest of the service sees it: validated and normalized (DESIGN.md §7). CRM
 * integer ids become strings here, once, because CDP stores them as strings. Parsing lives in
 * `crm-payload.ts`; this file only names the shapes.
 */

/** One file CRM lists on a note (`crm_note_images[]`, `crm_note_audios[]`, `crm_note_attachments[]`). */
export interface CrmAttachment {
  url: string;
  fileName: string | null;
  contentType: string | null;
  /** Declared size in bytes; CRM's word, not checked against the bytes. */
  size: number | null;
}

export interface CrmNote {
  id: string;
  /** Raw CRM HTML, unsanitized. Empty string when CRM sent `null`. */
  note: string;
  creatorId: string | null;
  creatorName: string | null;
  creatorEmail: string | null;
  crmPersonId: string | null;
  crmCompanyId: string | null;
  crmDealId: string | null;
  crmTicketId: string | null;
  crmNoteTypeId: number;
  images: CrmAttachment[];
  audios: CrmAttachment[];
  attachments: CrmAttachment[];
  /** Opaque check-in payload; CDP has no place for it (`CRM_CHECKIN_DROPPED`). */
  checkin: unknown;
  createdAt: Date;
  updatedAt: Date;
}

/** Per-note outcome of validation: a bad note is data (one failure record), not an exception. */
export type CrmNoteResult =
  | { ok: true; note: CrmNote }
  | {
      ok: false;
      reasonCode: 'CRM_PAYLOAD_INVALID';
      /** The note's CRM id when it could be read (a positive integer), else null. */
      legacyCrmNoteId: string | null;
      details: { issues: unknown[] };
    };
