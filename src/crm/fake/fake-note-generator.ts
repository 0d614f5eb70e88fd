/**
 * Fake note i as CRM would send it (DESIGN.md §7 `CRMNote`), built from its traits and a random
 * stream seeded for that note alone: note i never depends on notes 0..i-1, and the same seed gives
 * the same JSON bytes. Text comes from a faker-made bank (`fake-text-bank.ts`). Attachment URLs
 * point at the fake server's `/files/...` route.
 */
import { ATTACHMENT_CONTENT_TYPES, ATTACHMENT_EXTENSIONS } from './fake-attachment-bytes.js';
import { createFakeDirectory, type FakeDirectory } from './fake-directory.js';
import { fakeNoteHtml } from './fake-note-html.js';
import {
  type FakeAttachmentTraits,
  type FakeNoteTraits,
  fakeNoteTraits,
  type Malformation,
} from './fake-note-traits.js';
import type { FakeTenant } from './fake-tenant-options.js';
import { createFakeTextBank, type FakeTextBank } from './fake-text-bank.js';
import { createSeededRandom, mixSeed, type SeededRandom } from './seeded-random.js';

/** Cloud metadata: the SSRF guard must refuse it before a byte is fetched (DESIGN.md §8). */
export const SSRF_ATTACHMENT_BASE_URL = 'http://169.254.169.254/latest/meta-data/iam/security-credentials';
/** A file host no allow-list has (a CDN CRM moved its files to): blocked before DNS is asked (#13). */
export const UNLISTED_ATTACHMENT_HOST = 'files.legacy-crm-cdn.example';

const SALT_CONTENT = 0xc0de;
/** CRM's servers run in Jakarta: timestamps carry +07:00, exercising offset parsing. */
const CRM_UTC_OFFSET_MS = 7 * 3_600_000;

export interface FakeNoteGenerator {
  readonly tenant: FakeTenant;
  readonly directory: FakeDirectory;
  traits(index: number): FakeNoteTraits;
  /** The raw note object; `forceMalformation` corrupts a note that is otherwise valid (fault injection). */
  note(index: number, forceMalformation?: Malformation): Record<string, unknown>;
  /** The path of an attachment on the fake server: `/files/{cid}/{noteId}/{slot}/{fileName}`. */
  filePath(traits: FakeNoteTraits, attachment: FakeAttachmentTraits, fileName: string): string;
}

/** `filesBaseUrl` is the fake server's public URL; it is part of every attachment URL. */
export function createFakeNoteGenerator(tenant: FakeTenant, filesBaseUrl: string): FakeNoteGenerator {
  const bank = createFakeTextBank(tenant.seed);
  const directory = createFakeDirectory(tenant);
  const baseUrl = filesBaseUrl.replace(/\/+$/, '');

  const filePath: FakeNoteGenerator['filePath'] = (t, a, fileName) =>
    `/files/${encodeURIComponent(tenant.cid)}/${t.id}/${a.slot}/${encodeURIComponent(fileName)}`;

  function attachmentJson(r: SeededRandom, t: FakeNoteTraits, a: FakeAttachmentTraits) {
    const fileName = `${r.pick(bank.fileStems)}.${ATTACHMENT_EXTENSIONS[a.declaredKind]}`;
    const url =
      a.outcome === 'ssrf_blocked'
        ? `${SSRF_ATTACHMENT_BASE_URL}/${encodeURIComponent(fileName)}`
        : a.outcome === 'unlisted_host'
          ? `https://${UNLISTED_ATTACHMENT_HOST}${filePath(t, a, fileName)}`
          : `${baseUrl}${filePath(t, a, fileName)}`;
    return {
      url,
      file_name: fileName,
      content_type: ATTACHMENT_CONTENT_TYPES[a.declaredKind],
      size: a.sizeBytes,
    };
  }

  function note(index: number, forceMalformation?: Malformation): Record<string, unknown> {
    const t = fakeNoteTraits(tenant, index);
    const r = createSeededRandom(mixSeed(tenant.seed, index, SALT_CONTENT));
    const creator = directory.creator(t.creatorId);
    // Half of the anonymous creators are not even an id: CRM lost the user row.
    const creatorId = t.owner === 'unmapped_anonymous' && r.chance(0.5) ? null : t.creatorId;
    const list = (name: FakeAttachmentTraits['list']) =>
      t.attachments.filter((a) => a.list === name).map((a) => attachmentJson(r, t, a));
    const raw: Record<string, unknown> = {
      id: t.id,
      note: fakeNoteHtml(r, bank, t, (u) => directory.mentionable(u)),
      creator_id: creatorId,
      creator_name: creator.name,
      creator_email: creator.crmEmail,
      crm_person_id: t.personId,
      crm_company_id: t.companyId,
      crm_deal_id: t.dealId,
      crm_ticket_id: t.ticketId,
      crm_note_type_id: t.noteTypeId,
      crm_note_images: list('images'),
      crm_note_audios: list('audios'),
      crm_note_attachments: list('attachments'),
      crm_checkin: t.checkin ? checkinJson(r, bank, t) : null,
      created_at: crmTimestamp(t.createdAtMs),
      updated_at: crmTimestamp(t.updatedAtMs),
    };
    const malformation = forceMalformation ?? t.malformation;
    if (malformation) malform(raw, malformation, t);
    return raw;
  }

  return { tenant, directory, traits: (index) => fakeNoteTraits(tenant, index), note, filePath };
}

function checkinJson(r: SeededRandom, bank: FakeTextBank, t: FakeNoteTraits) {
  return {
    id: 40_000_000 + t.index,
    latitude: Math.round((-6.4 + r.next() * 0.3) * 1e6) / 1e6,
    longitude: Math.round((106.7 + r.next() * 0.3) * 1e6) / 1e6,
    address: r.pick(bank.addresses),
    checked_in_at: crmTimestamp(t.createdAtMs - 15 * 60_000),
  };
}

/** `2016-01-04T08:00:00.000+07:00`. */
export function crmTimestamp(ms: number): string {
  return new Date(ms + CRM_UTC_OFFSET_MS).toISOString().replace('Z', '+07:00');
}

/** Breaks the contract in one way while keeping `id` readable, so the failure names its note. */
function malform(raw: Record<string, unknown>, how: Malformation, t: FakeNoteTraits): void {
  switch (how) {
    case 'type_id_as_string':
      raw.crm_note_type_id = String(t.noteTypeId);
      break;
    case 'bad_created_at':
      raw.created_at = '31/12/2019 25:61';
      break;
    case 'missing_note':
      delete raw.note;
      break;
    case 'images_not_array':
      raw.crm_note_images = 'https://crm.example/uploads/photo.png';
      break;
    case 'person_id_not_integer':
      raw.crm_person_id = `P-${t.personId ?? 0}`;
      break;
  }
}
