/**
 * Which file the fake server serves at `/files/{cid}/{noteId}/{slot}/{name}`: found from the
 * note's traits alone (no index of files is kept). Missing and SSRF attachments have no file.
 */
import { ATTACHMENT_CONTENT_TYPES, type FakeFileBody, fakeFileBody } from './fake-attachment-bytes.js';
import type { FakeNoteGenerator } from './fake-note-generator.js';
import { mixSeed } from './seeded-random.js';

export interface FakeFile {
  /** What the note declared, even when the bytes are another kind. */
  contentType: string;
  body: FakeFileBody;
}

/**
 * The file of attachment `slot` on note `noteId`, or null when the server answers 404. Notes exist
 * below `indexLimit` (the tenant's own, and notes a mutation added after them).
 */
export function findFakeFile(
  generator: FakeNoteGenerator,
  noteId: number,
  slot: number,
  indexLimit = generator.tenant.noteCount,
): FakeFile | null {
  const { tenant } = generator;
  const index = noteId - tenant.firstNoteId;
  if (!Number.isSafeInteger(index) || index < 0 || index >= indexLimit) return null;
  const attachment = generator.traits(index).attachments.find((a) => a.slot === slot);
  if (!attachment || ['download_failed', 'ssrf_blocked', 'unlisted_host'].includes(attachment.outcome))
    return null;
  return {
    contentType: ATTACHMENT_CONTENT_TYPES[attachment.declaredKind],
    body: fakeFileBody(attachment.bytesKind, attachment.sizeBytes, mixSeed(tenant.seed, noteId, slot)),
  };
}
