/**
 * What the pipeline needs from the legacy CRM: pages of person notes of one organisation.
 */
import type { CrmNoteResult } from './crm-note.js';

export interface CrmNotesPage {
  page: number;
  perPage: number;
  total: number;
  totalPages: number;
  notes: CrmNoteResult[];
}

export interface CrmNotesExtractor {
  listPersonNotes(cid: string, page: number, perPage: number, signal?: AbortSignal): Promise<CrmNotesPage>;
  /** Does CRM know this organisation? 404 → CID_NOT_FOUND; unreachable → CRM_UNAVAILABLE. */
  probeOrganization(cid: string, signal?: AbortSignal): Promise<{ total: number }>;
}
