/**
 * What the migration pipeline needs from the legacy CRM: one page of a CID's person notes at a
 * time, and a cheap "does CRM know this org?" probe for the trigger route. The HTTP client
 * (`http-crm-notes-extractor.ts`) and the in-memory stub for tests both implement it.
 */
import type { CrmNoteResult } from './crm-note.js';

/** Largest page the CRM contract allows (`per_page`); CRM_PAGE_SIZE is capped to it too. */
export const CRM_MAX_PAGE_SIZE = 1000;

export interface CrmNotesPage {
  /** The page number, 1-based, as CRM confirmed it. */
  page: number;
  /** The page size CRM used; may be smaller than the one asked for when CRM caps it. */
  perPage: number;
  /** Every person note of the CID, in and out of scope. */
  total: number;
  totalPages: number;
  /** In CRM order; one result per note, valid or not. */
  notes: CrmNoteResult[];
}

export interface CrmNotesExtractor {
  /**
   * One page of the CID's person notes. Throws `UpstreamError`: `CID_NOT_FOUND` (404),
   * `CRM_REQUEST_REJECTED` (another 4xx, not retried), `CRM_PAYLOAD_INVALID` (the envelope breaks
   * the contract, not retried), `CRM_EXTRACT_FAILED` (retries exhausted). An aborted `signal`
   * rejects with its reason and stops retrying.
   */
  listPersonNotes(cid: string, page: number, perPage: number, signal?: AbortSignal): Promise<CrmNotesPage>;
  /**
   * For the trigger route: does CRM know this org, and how many notes does it hold?
   * 404 → `CID_NOT_FOUND`; unreachable or 5xx after a short retry budget → `CRM_UNAVAILABLE`.
   */
  probeOrganization(cid: string, signal?: AbortSignal): Promise<{ total: number }>;
}
