import { describe, expect, it } from 'vitest';

import { createMentionStripHooks, isMentionAnchor } from '../../../src/normalize/strip-mentions.js';

describe('isMentionAnchor', () => {
  it.each([
    ['a data-user-id attribute', { 'data-user-id': '12' }],
    ['an empty data-user-id attribute', { 'data-user-id': '' }],
    ['a relative edit_user href', { href: '/users/12/edit_user' }],
    ['a relative edit_user href without leading slash', { href: 'users/12/edit_user' }],
    ['an absolute edit_user href', { href: 'https://crm.example.com/users/12/edit_user' }],
    [
      'an edit_user href with query and fragment',
      { href: 'https://crm.example.com/users/12/edit_user?x=1#y' },
    ],
    ['an edit_user href in upper case', { href: '/USERS/12/EDIT_USER' }],
    ['a non-numeric user id', { href: '/users/ab-12/edit_user' }],
  ])('recognises %s', (_name, attribs) => {
    expect(isMentionAnchor(attribs)).toBe(true);
  });

  it.each([
    ['a plain link', { href: 'https://example.com/' }],
    ['another CRM page', { href: '/users/12/profile' }],
    ['a user list', { href: '/users/edit_user' }],
    ['edit_user only in the query string', { href: 'https://example.com/?next=/users/1/edit_user' }],
    ['a data-user attribute of another name', { 'data-user': '12' }],
    ['no attributes', {}],
  ])('does not take %s for a mention', (_name, attribs) => {
    expect(isMentionAnchor(attribs)).toBe(false);
  });
});

describe('createMentionStripHooks', () => {
  it('is inside a mention from its anchor to the matching close, across nested elements', () => {
    const hooks = createMentionStripHooks();
    const seen: boolean[] = [];
    hooks.onOpenTag('p', {});
    seen.push(hooks.isInsideMention());
    hooks.onOpenTag('a', { 'data-user-id': '1' });
    seen.push(hooks.isInsideMention());
    hooks.onOpenTag('b', {});
    hooks.onOpenTag('a', { 'data-user-id': '2' });
    hooks.onCloseTag('a', false);
    hooks.onCloseTag('b', false);
    seen.push(hooks.isInsideMention());
    hooks.onCloseTag('a', false);
    seen.push(hooks.isInsideMention());
    hooks.onCloseTag('p', false);
    expect(seen).toEqual([false, true, true, false]);
  });

  it('does not treat an ordinary link as a mention', () => {
    const hooks = createMentionStripHooks();
    hooks.onOpenTag('a', { href: 'https://example.com' });
    expect(hooks.isInsideMention()).toBe(false);
  });
});
