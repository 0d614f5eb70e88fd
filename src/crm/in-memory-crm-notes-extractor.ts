/**
 * A `CrmNotesExtractor` over notes held in memory: the stub the pipeline's unit tests page
 * through (breakdown Task 2.3, "CRMNotesExtractorStub"). No HTTP, no retries; failures are
 * injected per call.
 */
import { toError, UpstreamError, ValidationError } from '../errors.js';
import type { CrmNoteResult } from './crm-note.js';
import { CRM_MAX_PAGE_SIZE, type CrmNotesExtractor } from './crm-notes-extractor.js';

export interface InMemoryCrmNotesExtractorOptions {
  /** CID → its notes in CRM order. A CID not listed answers `CID_NOT_FOUND`. */
  tenants: Record<string, readonly CrmNoteResult[]>;
  /** Return an error to make that call fail (e.g. `CRM_EXTRACT_FAILED` on page 3). */
  failCall?: (call: { cid: string; page: number; perPage: number }) => Error | undefined;
}

export interface InMemoryCrmNotesExtractor extends CrmNotesExtractor {
  /** Every `listPersonNotes` call, in order, for assertions. */
  readonly calls: ReadonlyArray<{ cid: string; page: number; perPage: number }>;
}

export function createInMemoryCrmNotesExtractor(
  options: InMemoryCrmNotesExtractorOptions,
): InMemoryCrmNotesExtractor {
  const calls: Array<{ cid: string; page: number; perPage: number }> = [];
  const notesOf = (cid: string) => {
    const notes = Object.hasOwn(options.tenants, cid) ? options.tenants[cid] : undefined;
    if (!notes) throw new UpstreamError('CID_NOT_FOUND', `CRM does not know CID ${cid} (in-memory stub)`);
    return notes;
  };
  return {
    calls,
    listPersonNotes: (cid, page, perPage, signal) =>
      settle(() => {
        signal?.throwIfAborted();
        if (!Number.isSafeInteger(page) || page < 1 || perPage < 1 || perPage > CRM_MAX_PAGE_SIZE) {
          throw new ValidationError(`invalid page ${page} / perPage ${perPage}`);
        }
        calls.push({ cid, page, perPage });
        const injected = options.failCall?.({ cid, page, perPage });
        if (injected) throw injected;
        const notes = notesOf(cid);
        return {
          page,
          perPage,
          total: notes.length,
          totalPages: Math.ceil(notes.length / perPage),
          notes: notes.slice((page - 1) * perPage, page * perPage),
        };
      }),
    probeOrganization: (cid, signal) =>
      settle(() => {
        signal?.throwIfAborted();
        return { total: notesOf(cid).length };
      }),
  };
}

/** Runs `fn` now and reports its result or its throw as a promise. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(toError(e));
  }
}
