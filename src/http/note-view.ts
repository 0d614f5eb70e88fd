/**
 * A CDP note as the read path shows it. The author is the live SSO name of the owner; when the
 * note has no owner (or the owner is gone from the directory) and carries a
 * `legacy_owner_label`, that label (breakdown Task 2.6). The note itself is returned unchanged.
 */
import type { ContactNoteDoc, NoteAttachmentDoc } from '../db/documents.js';
import { type NotePermissions, notePermissions } from './note-permissions.js';

export type AuthorSource = 'sso' | 'legacy_owner_label' | 'none';

export interface NoteView {
  id: string;
  company_sso_id: string;
  contact_id: string;
  owner_id: string | null;
  author_name: string | null;
  author_source: AuthorSource;
  note: string;
  attachments: NoteAttachmentDoc[];
  created_at: string;
  updated_at: string;
  legacy_crm_note_id: string | null;
  legacy_owner_label: string | null;
  permissions: NotePermissions;
}

export function resolveAuthor(
  note: Pick<ContactNoteDoc, 'owner_id' | 'legacy_owner_label'>,
  ssoNames: ReadonlyMap<string, string>,
): { name: string | null; source: AuthorSource } {
  const live = note.owner_id ? ssoNames.get(note.owner_id) : undefined;
  if (live) return { name: live, source: 'sso' };
  if (note.legacy_owner_label) return { name: note.legacy_owner_label, source: 'legacy_owner_label' };
  return { name: null, source: 'none' };
}

export function toNoteView(
  note: ContactNoteDoc,
  ssoNames: ReadonlyMap<string, string>,
  viewerSsoId: string | null,
): NoteView {
  const author = resolveAuthor(note, ssoNames);
  return {
    id: note._id.toHexString(),
    company_sso_id: note.company_sso_id,
    contact_id: note.contact_id,
    owner_id: note.owner_id,
    author_name: author.name,
    author_source: author.source,
    note: note.note,
    attachments: note.attachments,
    created_at: note.created_at.toISOString(),
    updated_at: note.updated_at.toISOString(),
    legacy_crm_note_id: note.legacy_crm_note_id ?? null,
    legacy_owner_label: note.legacy_owner_label ?? null,
    permissions: notePermissions(note, viewerSsoId),
  };
}
