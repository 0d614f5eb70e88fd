/**
 * One page of the contract's envelope, `{"data":[...],"meta":{...}}`, produced as string chunks
 * note by note: a 1,000-note page is never one big object, and the whole tenant never exists in
 * memory. Pure, so a test can compare the exact bytes of two runs.
 */
import type { FakeNoteGenerator } from './fake-note-generator.js';
import type { Malformation } from './fake-note-traits.js';
import type { FakeNoteListing } from './fake-tenant-mutations.js';

/** Chunks are flushed at about this many characters. */
const CHUNK_CHARS = 64 * 1024;

export interface FakePageMeta {
  page: number;
  per_page: number;
  total: number;
  total_pages: number;
}

export function fakePageMeta(total: number, page: number, perPage: number): FakePageMeta {
  return { page, per_page: perPage, total, total_pages: Math.ceil(total / perPage) };
}

export interface FakePageOptions {
  /** Positions within the page (0-based) to corrupt (fault injection, not counted in the plan). */
  corruptPositions?: ReadonlySet<number>;
  corruptWith?: Malformation;
}

/** The notes of an unmutated tenant: position k is note k. */
export function plainListing(generator: FakeNoteGenerator): FakeNoteListing {
  return {
    total: generator.tenant.noteCount,
    indexLimit: generator.tenant.noteCount,
    indexAt: (position) => position,
    note: (index, corrupt) => generator.note(index, corrupt),
  };
}

/** The page's JSON text in chunks; pages past the end have `data: []`. */
export function* fakeNotesPageChunks(
  generator: FakeNoteGenerator,
  page: number,
  perPage: number,
  options: FakePageOptions = {},
  listing: FakeNoteListing = plainListing(generator),
): Generator<string> {
  const total = listing.total;
  const first = (page - 1) * perPage;
  const end = Math.min(total, first + perPage);
  let buffer = '{"data":[';
  for (let at = first; at < end; at++) {
    const position = at - first;
    const corrupt = options.corruptPositions?.has(position)
      ? (options.corruptWith ?? 'type_id_as_string')
      : undefined;
    buffer += (at > first ? ',' : '') + JSON.stringify(listing.note(listing.indexAt(at), corrupt));
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  yield `${buffer}],"meta":${JSON.stringify(fakePageMeta(total, page, perPage))}}`;
}
