/**
 * What people wrote survives (#3, breakdown Task 1.2 "not flattened to plain text"): for clean
 * note HTML the normalized note shows the same text, with the same elements, as the original.
 */
import { describe, expect, it } from 'vitest';

import { normalizeNoteHtml } from '../../../src/normalize/normalize-note-html.js';
import { elementNames, findViolations, visibleText } from '../../helpers/html-oracle.js';

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['bold, italic, underline and strike', '<b>bold</b> <i>italic</i> <u>under</u> <s>strike</s>'],
  ['strong and em nested', '<strong>very <em>important</em> point</strong>'],
  ['a span', 'before <span>inside a span</span> after'],
  ['every heading level', '<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6>'],
  ['paragraphs', '<p>First paragraph.</p><p>Second paragraph.</p>'],
  ['nested divs', '<div>outer <div>inner <div>innermost</div></div></div>'],
  ['line breaks', 'line one<br>line two<br/>line three'],
  ['a bulleted list', '<ul><li>one</li><li>two</li><li>three</li></ul>'],
  ['a numbered list', '<ol><li>first</li><li>second</li></ol>'],
  ['a list nested in a list', '<ul><li>fruit<ol><li>apple</li><li>pear</li></ol></li><li>veg</li></ul>'],
  ['lists nested four deep', '<ul><li>a<ul><li>b<ol><li>c<ul><li>d</li></ul></li></ol></li></ul></li></ul>'],
  ['a quote with paragraphs', '<blockquote><p>Quoted text</p><p>more</p></blockquote>'],
  ['a quote inside a quote', '<blockquote>reply<blockquote>original</blockquote></blockquote>'],
  ['preformatted text with spacing', '<pre>col1    col2\n  indented\n\ttabbed</pre>'],
  ['code-like text in pre', '<pre>if (a &lt; b &amp;&amp; c &gt; d) { run(); }</pre>'],
  ['an http link', 'see <a href="http://example.com/page">the page</a>'],
  ['an https link with query and fragment', '<a href="https://example.com/s?q=a&amp;b=c#top">search</a>'],
  ['a mailto link', '<a href="mailto:ann@example.com?subject=Renewal">mail Ann</a>'],
  ['formatting inside a link', '<a href="https://example.com"><b>bold</b> and <i>italic</i> link</a>'],
  ['named entities', 'Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;single&#39; &copy; caf&eacute;&nbsp;bar'],
  ['numeric entities', 'price &#8364;5 &#x1F600; &#169;'],
  ['emoji, skin tones, flags and ZWJ sequences', '👍🏽 🎉 🇩🇪 👨‍👩‍👧‍👦 ❤️'],
  ['Chinese', '<p>客户打电话询问续约报价。</p>'],
  ['Japanese', '<b>会議</b>の予定を<i>確認</i>しました。'],
  ['Korean', '<p>고객이 <strong>견적</strong>을 요청했습니다.</p>'],
  ['Hebrew (RTL)', '<p>הלקוח ביקש <b>הצעת מחיר</b> חדשה.</p>'],
  ['Arabic (RTL) with numbers and Latin', '<p>طلب العميل عرض سعر لـ 25 ترخيصًا من Product X.</p>'],
  ['mixed directions in a list', '<ul><li>English</li><li>עברית</li><li>العربية 123</li></ul>'],
  ['combining marks and Devanagari', 'e\u0301 n\u0303 <em>नमस्ते</em>'],
  ['Cyrillic and Greek', '<p>Привет, <u>мир</u>. Γειά σου κόσμε.</p>'],
  ['currency and maths symbols', '∑ x² ≤ 10 € ₹ ¥ ± ∞'],
  ['typographic quotes and dashes', '“Quoted” — ‘single’ – en… ellipsis'],
  ['an @ sign and an address that is not a link', 'ping @team or write to ann@example.com'],
  ['empty elements', '<p></p><div></div><b></b>'],
  ['whitespace between blocks', '<p>a</p>\n\n<p>b</p>\n<ul>\n  <li>c</li>\n</ul>'],
  [
    'a realistic note',
    '<h3>Call summary</h3><p>Spoke with <b>Dana</b> about the <em>Q3 renewal</em>:</p>' +
      '<ol><li>Budget approved &ndash; 12 seats</li><li>Needs SSO<ul><li>SAML</li></ul></li></ol>' +
      '<blockquote>Can we start on the 1st?</blockquote><p>Docs: <a href="https://docs.example.com/sso">SSO guide</a></p>',
  ],
];

describe('must-survive notes', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('keeps the text and the elements of %s', (_name, input) => {
    const result = normalizeNoteHtml(input);
    if (!result.ok) throw new Error(`unexpected ${result.reasonCode}`);
    expect(visibleText(result.html)).toBe(visibleText(input));
    expect(elementNames(result.html)).toEqual(elementNames(input));
    expect(findViolations(result.html)).toEqual([]);
    expect(result.hasVisibleText).toBe(/[^\s\p{Cc}\p{Cf}]/u.test(visibleText(input)));
  });
});
