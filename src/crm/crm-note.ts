/**
 * A CRM person note after validation: CRM integer ids are strings here, dates are Dates.
 */
export interface CrmAttachment {
  url: string;
  fileName: string | null;
  contentType: string | null;
  size: number | null;
}

export interface CrmNote {
  id: string;
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
  checkin: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export type CrmNoteResult =
  | { ok: true; note: CrmNote }
  | {
      ok: false;
      reasonCode: 'CRM_PAYLOAD_INVALID';
      legacyCrmNoteId: string | null;
      details: { issues: unknown[] };
    };
