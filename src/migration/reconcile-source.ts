/**
 * The pages of a reconcile or repair run (DESIGN.md §11.5): every CRM page by number, then the
 * company's CDP legacy ids by cursor for the orphan pass — one source, so both phases get the
 * loop's checkpoint, progress, cancel and crash-resume. The phase is in the position: a CRM page
 * has no cursor; an orphan page's cursor is `cdp:` + the last legacy id before it. It pages like a
 * cursor source (no `positionAfter`): the next CRM page is fetched while one is written, not more.
 */
import type { CrmNoteResult } from '../crm/crm-note.js';
import type { CrmNotesExtractor } from '../crm/crm-notes-extractor.js';
import type { ContactNotesRepository } from '../db/contact-notes-repository.js';
import { createCrmPageSource } from './crm-page-source.js';
import type { PagePosition, PageSource, SourcePage } from './run-step.js';

export type ReconcileItem = { crm: CrmNoteResult } | { cdpLegacyId: string };

const CDP_CURSOR_PREFIX = 'cdp:';

/** Where the orphan phase of a position starts (the last legacy id before it), or null on a CRM page. */
export function orphanPhaseAfter(position: PagePosition): string | null {
  if (position.cursor === null) return null;
  if (!position.cursor.startsWith(CDP_CURSOR_PREFIX)) {
    throw new Error(`not a reconcile cursor: ${JSON.stringify(position.cursor)}`);
  }
  return position.cursor.slice(CDP_CURSOR_PREFIX.length);
}

export function isCrmPage(page: SourcePage<ReconcileItem>): boolean {
  return page.position.cursor === null;
}

export function createReconcileSource(
  deps: {
    extractor: Pick<CrmNotesExtractor, 'listPersonNotes'>;
    contactNotes: Pick<ContactNotesRepository, 'listLegacyIdsAfter'>;
  },
  run: { cid: string; company_sso_id: string; page_size: number },
): PageSource<ReconcileItem> {
  const crm = createCrmPageSource(deps.extractor, run.cid, run.page_size);
  return {
    async fetch(position, signal) {
      const after = orphanPhaseAfter(position);
      if (after === null) {
        const page = await crm.fetch(position, signal);
        return {
          ...page,
          items: page.items.map((result) => ({ crm: result })),
          // No page count: the orphan pages follow the CRM's last one, and a count would tell the
          // loop's feed to stop there (it fetches nothing past a source's last page).
          totalPages: null,
          // After the last CRM page, the orphan pass starts from the smallest legacy id.
          next: page.next ?? { page: position.page + 1, cursor: CDP_CURSOR_PREFIX },
        };
      }
      const ids = await deps.contactNotes.listLegacyIdsAfter(
        run.company_sso_id,
        after === '' ? null : after,
        run.page_size,
      );
      const last = ids.at(-1);
      return {
        position,
        items: ids.map((cdpLegacyId) => ({ cdpLegacyId })),
        total: null,
        totalPages: null,
        // Ends with an empty page, so the checkpoint after the last page holds the end cursor.
        next: last === undefined ? null : { page: position.page + 1, cursor: `${CDP_CURSOR_PREFIX}${last}` },
      };
    },
  };
}
