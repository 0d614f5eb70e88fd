import { describe, expect, it } from 'vitest';

import { resolveAuthor } from '../../../src/http/note-view.js';

describe('note author', () => {
  const names = new Map([['sso-1', 'Alice']]);

  it('uses the live SSO name when the owner is in the directory', () => {
    expect(resolveAuthor({ owner_id: 'sso-1', legacy_owner_label: 'Old Label' }, names)).toEqual({
      name: 'Alice',
      source: 'sso',
    });
  });

  it('falls back to legacy_owner_label when there is no owner, or the owner is gone', () => {
    expect(resolveAuthor({ owner_id: null, legacy_owner_label: 'Former Agent' }, names)).toEqual({
      name: 'Former Agent',
      source: 'legacy_owner_label',
    });
    expect(resolveAuthor({ owner_id: 'sso-9', legacy_owner_label: 'Former Agent' }, names).source).toBe(
      'legacy_owner_label',
    );
  });

  it('has no author when there is neither a known owner nor a label', () => {
    expect(resolveAuthor({ owner_id: null }, names)).toEqual({ name: null, source: 'none' });
    expect(resolveAuthor({ owner_id: 'sso-9', legacy_owner_label: '' }, names)).toEqual({
      name: null,
      source: 'none',
    });
  });
});
