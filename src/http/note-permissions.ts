/**
 * Who may edit or delete a note on the read path — the same rule for every note, migrated or
 * written by a person (breakdown Task 2.6: the permission logic is not changed for migrated
 * notes). Only the note's owner may edit or delete it; a note with no owner (a migrated note
 * whose CRM author has no SSO account, shown with its `legacy_owner_label`) is editable by no one.
 * Pure: no I/O, no clock.
 */

export interface NotePermissions {
  can_edit: boolean;
  can_delete: boolean;
}

export interface PermissionSubject {
  owner_id: string | null;
  is_deleted: boolean;
}

/** `viewerSsoId` is the requesting user's SSO id, or null when the caller did not say. */
export function notePermissions(note: PermissionSubject, viewerSsoId: string | null): NotePermissions {
  const isOwner =
    note.owner_id !== null && note.owner_id !== '' && viewerSsoId !== null && note.owner_id === viewerSsoId;
  const allowed = isOwner && !note.is_deleted;
  return { can_edit: allowed, can_delete: allowed };
}
