import { describe, expect, it } from 'vitest';

import {
  CODE_CONTENT_TAGS,
  isAllowedHref,
  SANITIZE_POLICY,
  transformAnchor,
} from '../../../src/normalize/sanitize-policy.js';

describe('isAllowedHref', () => {
  it.each([
    'http://example.com',
    'https://example.com/a?b=c#d',
    'HTTPS://EXAMPLE.COM',
    'mailto:ann@example.com',
    ' https://example.com ',
    'ht\ttps://example.com',
  ])('accepts %j', (href) => {
    expect(isAllowedHref(href)).toBe(true);
  });

  it.each([
    'javascript:alert(1)',
    ' \u0001javascript:alert(1)',
    'java\nscript:alert(1)',
    'data:text/html,x',
    'vbscript:x',
    'ftp://example.com',
    'tel:+1',
    '/relative',
    '//protocol-relative.example',
    '#top',
    '',
    'java\u0000script:alert(1)',
  ])('refuses %j', (href) => {
    expect(isAllowedHref(href)).toBe(false);
  });
});

describe('transformAnchor', () => {
  it('keeps only the href and adds rel="nofollow"', () => {
    expect(
      transformAnchor('a', { href: 'https://x.example', target: '_blank', rel: 'opener', onclick: 'x' }),
    ).toEqual({
      tagName: 'a',
      attribs: { href: 'https://x.example', rel: 'nofollow' },
    });
  });

  it('leaves a link with a refused href without any attribute', () => {
    expect(transformAnchor('a', { href: 'javascript:x', title: 't' })).toEqual({ tagName: 'a', attribs: {} });
  });
});

describe('SANITIZE_POLICY', () => {
  it('drops xmp with its content, the element behind GHSA-rpr9-rxv7-x643', () => {
    expect(CODE_CONTENT_TAGS).toContain('xmp');
    expect(SANITIZE_POLICY.nonTextTags).toContain('xmp');
  });

  it('allows no attribute except a[href] and a[rel]', () => {
    expect(Object.keys(SANITIZE_POLICY.allowedAttributes || {})).toEqual(['a']);
  });
});
