import { describe, expect, it } from 'vitest';

import { notePermissions } from '../../../src/http/note-permissions.js';

describe('note permissions', () => {
  it('lets the owner edit and delete their note', () => {
    expect(notePermissions({ owner_id: 'sso-1', is_deleted: false }, 'sso-1')).toEqual({
      can_edit: true,
      can_delete: true,
    });
  });

  it('gives anyone else, and an anonymous caller, no permission', () => {
    expect(notePermissions({ owner_id: 'sso-1', is_deleted: false }, 'sso-2')).toEqual({
      can_edit: false,
      can_delete: false,
    });
    expect(notePermissions({ owner_id: 'sso-1', is_deleted: false }, null)).toEqual({
      can_edit: false,
      can_delete: false,
    });
  });

  it('lets nobody edit a label-only note (no owner), whoever asks', () => {
    for (const viewer of [null, '', 'sso-1']) {
      expect(notePermissions({ owner_id: null, is_deleted: false }, viewer)).toEqual({
        can_edit: false,
        can_delete: false,
      });
    }
    expect(notePermissions({ owner_id: '', is_deleted: false }, '')).toEqual({
      can_edit: false,
      can_delete: false,
    });
  });

  it('allows nothing on a deleted note', () => {
    expect(notePermissions({ owner_id: 'sso-1', is_deleted: true }, 'sso-1').can_edit).toBe(false);
  });
});
