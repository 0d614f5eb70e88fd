import sanitizeHtml from 'sanitize-html';
import { describe, expect, it } from 'vitest';

import {
  MAX_NOTE_LENGTH,
  normalizeNoteHtml,
  type NormalizeResult,
} from '../../../src/normalize/normalize-note-html.js';
import { SANITIZE_POLICY } from '../../../src/normalize/sanitize-policy.js';

function htmlOf(result: NormalizeResult): string {
  if (!result.ok) throw new Error(`expected a normalized note, got ${JSON.stringify(result)}`);
  return result.html;
}

const normalized = (input: string): string => htmlOf(normalizeNoteHtml(input));

describe('normalizeNoteHtml: the cases of breakdown Task 1.2', () => {
  it.each([
    ['(a) removes a script with its content', '<script>alert(1)</script>', ''],
    ['(b) strips an onerror attribute and keeps the element', '<p onerror="x">hi</p>', '<p>hi</p>'],
    [
      '(c) neutralises a javascript: link, keeping its text',
      '<a href="javascript:void(0)">click</a>',
      'click',
    ],
    ['(d) turns a data-user-id mention into plain @Name text', '<a data-user-id="123">@Alice</a>', '@Alice'],
    [
      '(e) turns an edit_user mention into plain @Name text',
      '<a href="/users/123/edit_user">@Bob</a>',
      '@Bob',
    ],
    ['(f) keeps <strong>', '<strong>bold</strong>', '<strong>bold</strong>'],
    ['(g) does not wrap bare text in <p>', 'just text', 'just text'],
    [
      '(style exfil) drops a style element and style attributes',
      '<style>body{background:url(//x)}</style><b style="color:red">b</b>',
      '<b>b</b>',
    ],
  ])('%s', (_name, input, expected) => {
    expect(normalized(input)).toBe(expected);
  });

  it('(h) fails a note longer than 10,000 characters after sanitizing with NOTE_TOO_LONG and its length', () => {
    expect(normalizeNoteHtml(`<b>${'x'.repeat(MAX_NOTE_LENGTH)}</b>`)).toEqual({
      ok: false,
      reasonCode: 'NOTE_TOO_LONG',
      details: { length: MAX_NOTE_LENGTH + 7, maxLength: 10_000 },
    });
  });
});

describe('normalizeNoteHtml: mention anchors', () => {
  it.each([
    ['data-user-id with double quotes', '<a data-user-id="42">@Ann Lee</a>'],
    ['data-user-id unquoted', '<a data-user-id=42>@Ann Lee</a>'],
    [
      'data-user-id in single quotes after other attributes',
      "<a class='m' title='x' data-user-id='42'>@Ann Lee</a>",
    ],
    ['data-user-id with no value', '<a data-user-id>@Ann Lee</a>'],
    [
      'data-user-id in upper case, with an http href',
      '<A DATA-USER-ID="42" HREF="https://crm.example.com/x">@Ann Lee</A>',
    ],
    ['relative edit_user href', '<a href="/users/42/edit_user">@Ann Lee</a>'],
    [
      'absolute edit_user href with a query',
      '<a href="https://crm.example.com/users/42/edit_user?tab=1">@Ann Lee</a>',
    ],
    [
      'unquoted absolute edit_user href after a class',
      '<a class=m href=https://crm.example.com/users/42/edit_user>@Ann Lee</a>',
    ],
    ['edit_user href written with entities', '<a href="&#x2F;users&#x2F;42&#x2F;edit_user">@Ann Lee</a>'],
    ['edit_user href with a trailing path', '<a href="/org/9/users/abc-42/edit_user/profile">@Ann Lee</a>'],
    [
      'nested markup inside the anchor',
      '<a data-user-id="42"><span class="x"><b>@Ann</b> <i>Lee</i></span></a>',
    ],
    ['a line break inside the anchor', '<a href="/users/42/edit_user">@Ann<br> Lee</a>'],
  ])('turns a mention (%s) into plain text', (_name, input) => {
    const html = normalized(input);
    expect(html).not.toMatch(/<|>/);
    expect(html.replace(/\s+/g, ' ')).toMatch(/^@Ann ?Lee$/);
  });

  it('keeps the text around a mention and the formatting outside it', () => {
    expect(normalized('<p>Ask <a data-user-id="7"><b>@Bo</b></a> about <b>pricing</b>.</p>')).toBe(
      '<p>Ask @Bo about <b>pricing</b>.</p>',
    );
  });

  it('still drops code inside a mention instead of turning it into text', () => {
    expect(normalized('<a data-user-id="1">@Al<script>steal()</script>ice<style>x{}</style></a>')).toBe(
      '@Alice',
    );
  });

  it('keeps a link to a CRM page that is not a user profile', () => {
    expect(normalized('<a href="https://crm.example.com/deals/42/edit">deal</a>')).toBe(
      '<a href="https://crm.example.com/deals/42/edit" rel="nofollow">deal</a>',
    );
  });

  it('strips each of several mentions and leaves the links between them', () => {
    expect(
      normalized(
        '<a data-user-id=1>@A</a>, <a href="https://x.example/">site</a>, <a href="/users/2/edit_user">@B</a>',
      ),
    ).toBe('@A, <a href="https://x.example/" rel="nofollow">site</a>, @B');
  });

  it('ends the mention where the anchor ends even when it is never closed', () => {
    expect(normalized('<p><a data-user-id=1>@A</p><p><b>after</b></p>')).toBe('<p>@A</p><p><b>after</b></p>');
  });
});

describe('normalizeNoteHtml: links', () => {
  it.each([
    ['http', 'http://example.com/a?b=1&c=2', 'http://example.com/a?b=1&amp;c=2'],
    ['https', 'https://example.com', 'https://example.com'],
    ['mailto', 'mailto:ann@example.com', 'mailto:ann@example.com'],
    ['upper-case scheme', 'HTTPS://EXAMPLE.COM', 'HTTPS://EXAMPLE.COM'],
  ])('keeps an %s link with rel="nofollow" and nothing else', (_name, href, escaped) => {
    expect(normalized(`<a href="${href}" target="_blank" rel="opener" title="t" onclick="x()">go</a>`)).toBe(
      `<a href="${escaped}" rel="nofollow">go</a>`,
    );
  });

  it.each([
    ['javascript:', 'javascript:alert(1)'],
    ['entity-encoded javascript:', '&#106;avascript:alert(1)'],
    ['javascript: split by a tab entity', 'jav&#x09;ascript:alert(1)'],
    ['javascript: after a leading control character', '&#x01;javascript:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['vbscript:', 'vbscript:msgbox(1)'],
    ['ftp:', 'ftp://example.com/file'],
    ['a relative URL', '/deals/42'],
    ['a protocol-relative URL', '//evil.example/'],
    ['an empty href', ''],
  ])('unwraps a link whose href is %s, keeping its text', (_name, href) => {
    expect(normalized(`<a href="${href}">text</a> <b>after</b>`)).toBe('text <b>after</b>');
  });

  it('unwraps an anchor without href', () => {
    expect(normalized('<a name="top">Top</a>')).toBe('Top');
  });
});

describe('normalizeNoteHtml: the rest of the policy', () => {
  it.each([
    ['iframe', '<iframe src="https://x.example">fallback</iframe>'],
    ['object', '<object data="x.swf">fallback</object>'],
    ['template', '<template><b>hidden</b></template>'],
    ['noscript', '<noscript>enable js</noscript>'],
    ['svg', '<svg><text>drawn</text></svg>'],
    ['math', '<math><mi>x</mi></math>'],
    ['textarea', '<textarea>form state</textarea>'],
    ['title', '<title>page title</title>'],
  ])('drops a %s element together with its content', (_name, input) => {
    expect(normalized(`a${input}b`)).toBe('ab');
  });

  it.each([
    ['font', '<font color="red">text</font>', 'text'],
    ['table', '<table><tr><td>cell</td></tr></table>', 'cell'],
    ['Word markup', '<o:p>text</o:p>', 'text'],
    ['custom element', '<x-note>text</x-note>', 'text'],
    ['img (void)', 'a<img src="x.png" alt="pic">b', 'ab'],
    ['html/body', '<html><body>text</body></html>', 'text'],
  ])('unwraps a disallowed %s element and keeps its text', (_name, input, expected) => {
    expect(normalized(input)).toBe(expected);
  });

  it('drops comments, including conditional ones', () => {
    expect(normalized('a<!-- secret --><!--[if mso]><b>x</b><![endif]-->b')).toBe('ab');
  });

  it('removes every attribute of allowed elements other than links', () => {
    expect(normalized('<p class="c" id="i" style="x" dir="rtl" data-x="y" onclick="z">t</p>')).toBe(
      '<p>t</p>',
    );
  });

  it('escapes markup-looking text instead of letting it become markup', () => {
    expect(normalized('&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('returns the same output for the same input (pure)', () => {
    const input = '<p><a data-user-id=1>@A</a> <a href="https://x.example">x</a></p>';
    expect(normalizeNoteHtml(input)).toEqual(normalizeNoteHtml(input));
  });
});

describe('normalizeNoteHtml: length guard', () => {
  it('accepts a note of exactly 10,000 characters', () => {
    const result = normalizeNoteHtml('x'.repeat(MAX_NOTE_LENGTH));
    expect(result.ok && result.html.length).toBe(MAX_NOTE_LENGTH);
  });

  it('measures the sanitized note, not the input: long junk that is dropped does not count', () => {
    const result = normalizeNoteHtml(`<script>${'x'.repeat(50_000)}</script><b>kept</b>`);
    expect(result).toEqual({ ok: true, html: '<b>kept</b>', hasVisibleText: true });
  });

  it('counts characters as code points, so 10,000 emoji (20,000 UTF-16 units) fit', () => {
    const result = normalizeNoteHtml('😀'.repeat(MAX_NOTE_LENGTH));
    expect(result.ok).toBe(true);
  });

  it('reports the length in code points when a note of emoji is too long', () => {
    expect(normalizeNoteHtml('😀'.repeat(MAX_NOTE_LENGTH + 1))).toEqual({
      ok: false,
      reasonCode: 'NOTE_TOO_LONG',
      details: { length: MAX_NOTE_LENGTH + 1, maxLength: MAX_NOTE_LENGTH },
    });
  });

  it('counts the escaping of the output: 2,000 ampersands become 10,000 characters of &amp;', () => {
    expect(normalizeNoteHtml('&'.repeat(2_000)).ok).toBe(true);
    expect(normalizeNoteHtml('&'.repeat(2_001))).toMatchObject({ ok: false, details: { length: 10_005 } });
  });
});

describe('normalizeNoteHtml: hasVisibleText', () => {
  it.each([
    ['empty input', ''],
    ['only a script', '<script>alert(1)</script>'],
    ['only tags', '<p><br></p><div></div>'],
    ['only spaces, newlines and &nbsp;', ' \n\t&nbsp;&#160;<br>'],
    ['only zero-width characters', '&#8203;&zwj;&#xFEFF;'],
    ['only a mention-less empty link', '<a href="https://x.example"></a>'],
    ['only an image', '<img src="x.png">'],
  ])('is false for %s', (_name, input) => {
    const result = normalizeNoteHtml(input);
    expect(result.ok && result.hasVisibleText).toBe(false);
  });

  it.each([
    ['text', 'a'],
    ['an emoji', '👍'],
    ['a mention', '<a data-user-id=1>@A</a>'],
    ['an escaped character', '&lt;'],
    ['text deep in formatting', '<ul><li><b> x </b></li></ul>'],
  ])('is true for %s', (_name, input) => {
    const result = normalizeNoteHtml(input);
    expect(result.ok && result.hasVisibleText).toBe(true);
  });
});

describe('sanitize-html <xmp> advisory GHSA-rpr9-rxv7-x643', () => {
  // sanitize-html <= 2.17.3 re-emitted the raw text of a disallowed <xmp> unescaped.
  const payload = '<xmp><script>alert(1)</script><img src=x onerror=alert(1)></xmp>after';

  it('drops an <xmp> element with its raw-text content (GHSA-rpr9-rxv7-x643)', () => {
    expect(normalized(payload)).toBe('after');
  });

  it('is also safe with the plain policy, since the policy lists xmp as code content (GHSA-rpr9-rxv7-x643)', () => {
    expect(sanitizeHtml(payload, SANITIZE_POLICY)).toBe('after');
  });

  it('runs on a sanitize-html release with the fix (>= 2.17.4)', async () => {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('sanitize-html/package.json') as { version: string };
    const [major, minor, patch] = pkg.version.split('.').map(Number);
    expect(major! * 1e6 + minor! * 1e3 + patch!).toBeGreaterThanOrEqual(2_017_004);
  });
});
