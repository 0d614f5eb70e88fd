/**
 * zod schemas for the CRM contract (DESIGN.md §7) and the two parsers built on them: the page
 * envelope must be valid or the whole page fails; each note is validated on its own, so one bad
 * note becomes one `CRM_PAYLOAD_INVALID` result and the rest of the page goes on.
 */
import { z } from 'zod';

import type { CrmAttachment, CrmNote, CrmNoteResult } from './crm-note.js';

/** At most this many zod issues are kept per note or page: enough to act on, small enough to store. */
const MAX_ISSUES = 20;

/** CRM ids are positive integers; CDP stores them as strings. */
const crmId = z.int().positive();
const optionalCrmId = crmId.nullish().transform((v) => (v == null ? null : String(v)));
const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? null);
/** ISO 8601 with a zone (`Z` or `+07:00`): a zone-less time would be read in the server's zone. */
const crmTimestamp = z.iso.datetime({ offset: true }).transform((v) => new Date(v));

const AttachmentSchema = z
  .object({
    url: z.string().min(1),
    file_name: optionalText,
    content_type: optionalText,
    size: z.int().nonnegative().nullish(),
  })
  .transform((a): CrmAttachment => ({
    url: a.url,
    fileName: a.file_name,
    contentType: a.content_type,
    size: a.size ?? null,
  }));

const attachmentList = z
  .array(AttachmentSchema)
  .nullish()
  .transform((v) => v ?? []);

/** One `CRMNote`. Unknown fields are ignored, so CRM may add fields without breaking us. */
export const CrmNotePayloadSchema = z
  .object({
    id: crmId,
    note: z.string().nullable(),
    creator_id: optionalCrmId,
    creator_name: optionalText,
    creator_email: optionalText,
    crm_person_id: optionalCrmId,
    crm_company_id: optionalCrmId,
    crm_deal_id: optionalCrmId,
    crm_ticket_id: optionalCrmId,
    crm_note_type_id: z.int().nonnegative(),
    crm_note_images: attachmentList,
    crm_note_audios: attachmentList,
    crm_note_attachments: attachmentList,
    crm_checkin: z.unknown().optional(),
    created_at: crmTimestamp,
    updated_at: crmTimestamp,
  })
  .transform((n): CrmNote => ({
    id: String(n.id),
    note: n.note ?? '',
    creatorId: n.creator_id,
    creatorName: n.creator_name,
    creatorEmail: n.creator_email,
    crmPersonId: n.crm_person_id,
    crmCompanyId: n.crm_company_id,
    crmDealId: n.crm_deal_id,
    crmTicketId: n.crm_ticket_id,
    crmNoteTypeId: n.crm_note_type_id,
    images: n.crm_note_images,
    audios: n.crm_note_audios,
    attachments: n.crm_note_attachments,
    checkin: n.crm_checkin ?? null,
    createdAt: n.created_at,
    updatedAt: n.updated_at,
  }));

/** `{data, meta}` of `GET /v1/organizations/{cid}/person_notes`; notes stay `unknown` here. */
export const PersonNotesEnvelopeSchema = z.object({
  data: z.array(z.unknown()),
  meta: z.object({
    page: z.int().positive(),
    per_page: z.int().positive(),
    total: z.int().nonnegative(),
    total_pages: z.int().nonnegative(),
  }),
});
export type PersonNotesEnvelope = z.output<typeof PersonNotesEnvelopeSchema>;

/** A zod issue reduced to what a failure record needs: where, what kind, and the message. */
export interface PayloadIssue {
  path: string;
  code: string;
  message: string;
}

export function toPayloadIssues(error: z.ZodError): PayloadIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    code: issue.code,
    message: issue.message,
  }));
}

/** Validates one raw note; never throws. */
export function parseCrmNote(raw: unknown): CrmNoteResult {
  const parsed = CrmNotePayloadSchema.safeParse(raw);
  if (parsed.success) return { ok: true, note: parsed.data };
  return {
    ok: false,
    reasonCode: 'CRM_PAYLOAD_INVALID',
    legacyCrmNoteId: tryReadCrmNoteId(raw),
    details: { issues: toPayloadIssues(parsed.error) },
  };
}

/** The id of a note that failed validation, when it is still readable (a positive integer), else null. */
export function tryReadCrmNoteId(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || !('id' in raw)) return null;
  const id = raw.id;
  return crmId.safeParse(id).success ? String(id) : null;
}

export type EnvelopeParseResult =
  { ok: true; envelope: PersonNotesEnvelope } | { ok: false; issues: PayloadIssue[] };

/**
 * Validates the page envelope against the page that was asked for. A page that is not the one
 * requested, or holds more notes than its `per_page`, would break paging silently, so it is invalid.
 */
export function parsePersonNotesEnvelope(body: unknown, requestedPage: number): EnvelopeParseResult {
  const parsed = PersonNotesEnvelopeSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: toPayloadIssues(parsed.error) };
  const { data, meta } = parsed.data;
  const issues: PayloadIssue[] = [];
  if (meta.page !== requestedPage) {
    issues.push({
      path: 'meta.page',
      code: 'custom',
      message: `expected page ${requestedPage} (the page requested), got ${meta.page}`,
    });
  }
  if (data.length > meta.per_page) {
    issues.push({
      path: 'data',
      code: 'custom',
      message: `expected at most per_page (${meta.per_page}) notes, got ${data.length}`,
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, envelope: parsed.data };
}
