/**
 * An independent reading of fake CRM notes: classifies raw notes the way DESIGN.md §5 says the
 * migration must (validate → scope → contact → sanitize → owner → check-in → attachments),
 * using the CDP seed documents, sanitize-html and file-type — never the generator's traits.
 * Tests compare its tally with the generator's plan.
 */
import { fileTypeFromBuffer } from 'file-type';
import sanitizeHtml from 'sanitize-html';

import type { CrmAttachment } from '../../src/crm/crm-note.js';
import { parseCrmNote } from '../../src/crm/crm-payload.js';
import { fakeCdpContacts, fakeCdpUsers } from '../../src/crm/fake/cdp-seed.js';
import type { FakeFile } from '../../src/crm/fake/fake-files.js';
import { UNLISTED_ATTACHMENT_HOST } from '../../src/crm/fake/fake-note-generator.js';
import type { FakeTenant } from '../../src/crm/fake/fake-tenant-options.js';

/** The allow-list of DESIGN.md §9. */
export function sanitizeLikeDesign(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: [
      'a',
      'b',
      'i',
      'strong',
      'em',
      'u',
      's',
      'span',
      'br',
      'div',
      'p',
      'ul',
      'ol',
      'li',
      'blockquote',
      'h1',
      'h2',
      'h3',
      'h4',
      'h5',
      'h6',
      'pre',
    ],
    allowedAttributes: { a: ['href', 'rel'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'nofollow' }) },
  });
}

const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

/** Broad kind of a MIME type, as the type mapping of DESIGN.md §8 tells them apart. */
export function mimeFamily(mime: string | undefined): string {
  if (!mime) return 'unknown';
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime === 'application/pdf') return 'pdf';
  if (mime.includes('spreadsheetml')) return 'xlsx';
  if (mime.includes('wordprocessingml') || mime === 'application/msword' || mime === 'application/x-cfb')
    return 'doc';
  return mime;
}

export interface ScanTally {
  total: number;
  outOfScope: number;
  migrated: number;
  failures: Record<string, number>;
  warnings: Record<string, number>;
  attachments: Record<string, number>;
  emptyBodyWithAttachments: number;
}

export type FileLookup = (url: URL) => FakeFile | null | Promise<FakeFile | null>;

export function createFakeCrmScanner(tenant: FakeTenant, lookupFile: FileLookup, inScopeTypes = [1, 6]) {
  const personIds = new Set([...fakeCdpContacts(tenant)].map((c) => c.crm_data?.id));
  const users = [...fakeCdpUsers(tenant)];
  const crmUserIds = new Set(users.map((u) => u.crm_user_id).filter(Boolean));
  const emails = new Set(users.map((u) => u.email.toLowerCase()));
  const tally: ScanTally = {
    total: 0,
    outOfScope: 0,
    migrated: 0,
    failures: {},
    warnings: {},
    attachments: {},
    emptyBodyWithAttachments: 0,
  };
  const bump = (bag: Record<string, number>, key: string) => (bag[key] = (bag[key] ?? 0) + 1);

  async function attachmentOutcome(a: CrmAttachment): Promise<string> {
    const url = new URL(a.url);
    if (url.hostname === '169.254.169.254' || url.hostname === UNLISTED_ATTACHMENT_HOST)
      return 'ATTACHMENT_SSRF_BLOCKED';
    const file = await lookupFile(url);
    if (!file) return 'ATTACHMENT_DOWNLOAD_FAILED';
    if (file.body.sizeBytes > MAX_ATTACHMENT_BYTES) return 'ATTACHMENT_TOO_LARGE';
    const head: Buffer[] = [];
    let bytes = 0;
    for (const chunk of file.body.chunks()) {
      head.push(chunk);
      bytes += chunk.length;
      if (bytes >= 8192) break;
    }
    const detected = await fileTypeFromBuffer(Buffer.concat(head));
    return mimeFamily(detected?.mime) === mimeFamily(a.contentType ?? undefined)
      ? 'ok'
      : 'ATTACHMENT_TYPE_MISMATCH';
  }

  async function scan(raw: unknown): Promise<void> {
    tally.total++;
    const parsed = parseCrmNote(raw);
    if (!parsed.ok) return void bump(tally.failures, 'CRM_PAYLOAD_INVALID');
    const n = parsed.note;
    if (!inScopeTypes.includes(n.crmNoteTypeId)) return void tally.outOfScope++;
    if (n.crmPersonId === null || !personIds.has(n.crmPersonId))
      return void bump(tally.failures, 'CONTACT_NOT_MAPPED');
    const clean = sanitizeLikeDesign(n.note);
    if (clean.length > 10_000) return void bump(tally.failures, 'NOTE_TOO_LONG');
    const files = [...n.images, ...n.audios, ...n.attachments];
    if (clean.trim() === '' && files.length === 0)
      return void bump(tally.failures, 'NOTE_EMPTY_AFTER_SANITIZE');
    tally.migrated++;
    if (clean.trim() === '') tally.emptyBodyWithAttachments++;
    const ownerKnown =
      (n.creatorId !== null && crmUserIds.has(n.creatorId)) ||
      (n.creatorEmail !== null && emails.has(n.creatorEmail.toLowerCase()));
    if (!ownerKnown) bump(tally.warnings, 'OWNER_NOT_MAPPED');
    if (n.checkin !== null) bump(tally.warnings, 'CRM_CHECKIN_DROPPED');
    // One warning record per note and code, as the pipeline groups them.
    const codes = new Set<string>();
    for (const a of files) {
      const outcome = await attachmentOutcome(a);
      bump(tally.attachments, outcome);
      if (outcome !== 'ok') codes.add(outcome);
    }
    for (const code of codes) bump(tally.warnings, code);
  }

  return { scan, tally };
}
