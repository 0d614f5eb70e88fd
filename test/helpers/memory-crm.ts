/**
 * A CRM in memory for tests of run logic (leases, halts, validation) that do not need HTTP;
 * the HTTP path is covered with the fake CRM server. Notes are built lazily per page.
 */
import type { CrmNote } from '../../src/crm/crm-note.js';
import type { CrmNotesExtractor, CrmNotesPage } from '../../src/crm/crm-notes-extractor.js';
import { UpstreamError } from '../../src/errors.js';

export interface MemoryCrm extends CrmNotesExtractor {
  notes: CrmNote[];
  /** Pages from this number on fail with CRM_EXTRACT_FAILED until `up()` is called. */
  failFromPage(page: number): void;
  up(): void;
  /** Makes probeOrganization fail (source count unavailable). */
  probeFails: boolean;
  /** Called before each page is served (to pause, or to act mid-run). */
  beforePage?: (page: number) => Promise<void> | void;
  pagesServed: number[];
}

export function createMemoryCrm(notes: CrmNote[]): MemoryCrm {
  let failFrom = Number.POSITIVE_INFINITY;
  const crm: MemoryCrm = {
    notes,
    probeFails: false,
    pagesServed: [],
    failFromPage(page) {
      failFrom = page;
    },
    up() {
      failFrom = Number.POSITIVE_INFINITY;
    },
    async listPersonNotes(cid, page, perPage): Promise<CrmNotesPage> {
      await crm.beforePage?.(page);
      if (page >= failFrom) {
        throw new UpstreamError('CRM_EXTRACT_FAILED', `CRM answered 503 for page ${page} after 4 attempts`, {
          details: { lastStatus: 503, attempts: 4, cid, page },
        });
      }
      crm.pagesServed.push(page);
      const total = crm.notes.length;
      return {
        page,
        perPage,
        total,
        totalPages: Math.max(1, Math.ceil(total / perPage)),
        notes: crm.notes.slice((page - 1) * perPage, page * perPage).map((note) => ({ ok: true, note })),
      };
    },
    probeOrganization() {
      if (crm.probeFails) return Promise.reject(new UpstreamError('CRM_UNAVAILABLE', 'CRM unreachable'));
      return Promise.resolve({ total: crm.notes.length });
    },
  };
  return crm;
}
