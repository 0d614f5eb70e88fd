import { describe, expect, it } from 'vitest';

import { escapeHtml, hrefOf, html, SafeHtml } from '../../../../src/http/console/html.js';
import { HOSTILE_STRINGS } from '../../../fixtures/hostile-strings.js';
import { findActiveMarkup, textOf } from '../../../helpers/page-inertness.js';

describe('console HTML template (#17)', () => {
  it('escapes every interpolated value, in text and in quoted attributes', () => {
    for (const s of HOSTILE_STRINGS) {
      const page = html`<!doctype html>
        <p title="${s}" data-x="${s}">${s}</p>
        <a href="/private/console?q=${s}">${s}</a>`.markup;
      expect(findActiveMarkup(page), s).toEqual([]);
      expect(textOf(page).split(s).length - 1, s).toBe(2);
    }
    expect(escapeHtml(`<>&"'\``)).toBe('&lt;&gt;&amp;&quot;&#39;&#96;');
  });

  it('keeps markup made by the template, arrays joined, and nothing for null, undefined or false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${[html`<br />`, 'a&b']}${null}${undefined}${false}${0}</p>`.markup).toBe(
      '<p><b>&lt;i&gt;</b><br />a&amp;b0</p>',
    );
  });

  it('cannot be handed markup from outside: a SafeHtml lookalike is escaped like any value', () => {
    const fake = { markup: '<script>x</script>', toString: () => '<script>x</script>' };
    expect(html`${fake as unknown as string}`.markup).toBe('&lt;script&gt;x&lt;/script&gt;');
    // The constructor is private; the only instances come from `html` itself.
    expect(html`x` instanceof SafeHtml).toBe(true);
  });

  it('builds console links from our own paths with every query value encoded', () => {
    expect(hrefOf('/private/console', { q: 'a&b=c"<', page: 2, status: undefined })).toBe(
      '/private/console?q=a%26b%3Dc%22%3C&page=2',
    );
    expect(hrefOf('/private/console')).toBe('/private/console');
  });
});
