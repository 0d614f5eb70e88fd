/**
 * Where a re-hosted attachment lives: `{company_sso_id}/{legacy_crm_note_id}/{asset}` (DESIGN.md
 * §8). Pure and deterministic: the same note with the same attachments gives the same keys, so a
 * re-run overwrites objects instead of adding new ones. No key can climb out of its note's folder.
 */
import { createHash } from 'node:crypto';

/** Longest stem kept from a file name; the whole asset name stays well under S3's 1,024-byte key. */
const MAX_STEM_CHARS = 80;

/** What identifies one attachment of a note. */
export interface AssetSource {
  kind: string;
  url: string;
  fileName: string | null;
}

/**
 * One path segment from an id: anything outside `[A-Za-z0-9_-]` (dots included, so `..` cannot
 * survive) is percent-encoded. Ids as CRM and SSO hand them out (digits, UUIDs) pass unchanged.
 */
export function keySegment(id: string): string {
  if (id === '') throw new Error('an asset key segment must not be empty');
  return id.replace(/[^A-Za-z0-9_-]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/**
 * A file name reduced to `[a-z0-9._-]`: directories dropped, accents folded, everything else a
 * dash, no leading dot (no hidden files, no `..`), lower-case extension, bounded length.
 * Returns `{ stem, extension }`; the stem is `attachment` when nothing is left.
 */
export function safeFileName(name: string): { stem: string; extension: string | null } {
  const base = name.split(/[\\/]/).pop() ?? '';
  const folded = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  const dot = folded.lastIndexOf('.');
  const rawExt = dot > 0 ? folded.slice(dot + 1) : '';
  const extension = /^[a-z0-9]{1,10}$/.test(rawExt) ? rawExt : null;
  const rawStem = extension ? folded.slice(0, dot) : folded;
  const stem = rawStem
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, MAX_STEM_CHARS)
    .replace(/[-_]+$/, '');
  return { stem: stem === '' ? 'attachment' : stem, extension };
}

/** The display name of an attachment: CRM's file name, else the last segment of its URL path. */
export function displayFileName(source: Pick<AssetSource, 'url' | 'fileName'>): string {
  const named = source.fileName?.trim();
  let candidate = named ? named : '';
  if (candidate === '') {
    try {
      const segment = new URL(source.url).pathname.split('/').pop() ?? '';
      candidate = decodeURIComponent(segment);
    } catch {
      candidate = '';
    }
  }
  // A name is shown to people, not used as a path: keep it readable, drop directories and controls.
  const cleaned = (candidate.split(/[\\/]/).pop() ?? '')
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, 255);
  return cleaned === '' ? 'attachment' : cleaned;
}

/**
 * `{stem}-{hash}.{ext}`: the stem makes the key readable; the hash (of kind and source URL) makes
 * two attachments that share a file name distinct. The URL is hashed, never stored.
 */
export function assetName(source: AssetSource): string {
  const { stem, extension } = safeFileName(displayFileName(source));
  const hash = createHash('sha256').update(`${source.kind}\n${source.url.trim()}`).digest('hex').slice(0, 12);
  return `${stem}-${hash}${extension ? `.${extension}` : ''}`;
}

/**
 * The key of every attachment of one note, in input order. Two inputs with the same kind and URL
 * (the same file listed twice) would share a name; the later ones get `-2`, `-3`… before the
 * extension, so keys are unique within the note and still the same on every run.
 */
export function assignAssetKeys(
  companySsoId: string,
  legacyCrmNoteId: string,
  sources: readonly AssetSource[],
): string[] {
  const prefix = `${keySegment(companySsoId)}/${keySegment(legacyCrmNoteId)}`;
  const seen = new Map<string, number>();
  return sources.map((source) => {
    const name = assetName(source);
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    if (count === 1) return `${prefix}/${name}`;
    const dot = name.lastIndexOf('.');
    const unique = dot > 0 ? `${name.slice(0, dot)}-${count}${name.slice(dot)}` : `${name}-${count}`;
    return `${prefix}/${unique}`;
  });
}

/**
 * The S3 key of an attachment this service hosted for note `legacyCrmNoteId`, read back from its
 * proxy URL (`{proxy base}/{company}/{note}/{asset}`), or null when the URL is not one of this
 * note's objects. Found by the note's own folder rather than the proxy base, so a changed
 * `ATTACHMENT_PROXY_BASE_URL` still finds it; never a key outside that folder (#14, rollback).
 */
export function objectKeyOfHostedUrl(
  url: string,
  companySsoId: string,
  legacyCrmNoteId: string,
): string | null {
  const folder = `${keySegment(companySsoId)}/${keySegment(legacyCrmNoteId)}/`;
  const at = url.lastIndexOf(`/${folder}`);
  if (at < 0) return null;
  const asset = url.slice(at + 1 + folder.length);
  if (asset === '' || !/^[A-Za-z0-9._-]+$/.test(asset) || asset.startsWith('.')) return null;
  return `${folder}${asset}`;
}
