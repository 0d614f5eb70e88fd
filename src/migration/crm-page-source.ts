/**
 * A CID's CRM person notes as a page source (DESIGN.md §7): page N of `page_size` notes, the next
 * page until CRM's `total_pages` is reached or a page comes back empty. Pages by number, so the
 * position after page N is known before page N arrives (pages can be fetched ahead).
 */
import type { CrmNoteResult } from '../crm/crm-note.js';
import type { CrmNotesExtractor } from '../crm/crm-notes-extractor.js';
import type { PageSource } from './run-step.js';

export function createCrmPageSource(
  extractor: Pick<CrmNotesExtractor, 'listPersonNotes'>,
  cid: string,
  pageSize: number,
): PageSource<CrmNoteResult> {
  return {
    async fetch(position, signal) {
      const page = await extractor.listPersonNotes(cid, position.page, pageSize, signal);
      const last = position.page >= page.totalPages || page.notes.length === 0;
      return {
        position,
        items: page.notes,
        total: page.total,
        totalPages: page.totalPages,
        next: last ? null : { page: position.page + 1, cursor: null },
      };
    },
    positionAfter: (position) => ({ page: position.page + 1, cursor: null }),
  };
}
