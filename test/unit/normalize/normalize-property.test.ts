/**
 * Property test (#3): for random, often malformed markup built from hostile parts, the output is
 * safe as a browser parses it, stays safe when normalized again, and `hasVisibleText` tells the truth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { normalizeNoteHtml } from '../../../src/normalize/normalize-note-html.js';
import { findViolations, visibleText } from '../../helpers/html-oracle.js';

const TAGS = [
  ...'a b i strong em u s span br div p ul ol li blockquote h1 h2 h3 pre'.split(' '),
  ...'script style svg math xmp textarea iframe noscript template img title plaintext object embed'.split(
    ' ',
  ),
  ...'table td select option form button input font o:p foreignObject mglyph mtext annotation-xml'.split(' '),
  'SCRIPT',
  'A',
  'sCrIpT',
];
const ATTRIBUTE_NAMES = [
  'href',
  'HREF',
  'src',
  'onclick',
  'onerror',
  'onload',
  'style',
  'data-user-id',
  'rel',
  'target',
  'xlink:href',
  'class',
  'formaction',
  'srcdoc',
  '/onmouseover',
];
const ATTRIBUTE_VALUES = [
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  '&#106;avascript:alert(1)',
  'jav&#x09;ascript:alert(1)',
  '&#x01;javascript:alert(1)',
  ' javascript:alert(1)',
  'javascript&colon;alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'https://example.com/a?b=1&c=2',
  'http://example.com',
  'mailto:a@example.com',
  '//evil.example',
  '/users/7/edit_user',
  'https://crm.example.com/users/7/edit_user',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '</a><img src=x onerror=alert(1)>',
  'alert(1)',
  '',
];
const TEXTS = [
  '@Ann',
  'hello',
  '&lt;script&gt;',
  '&amp;',
  '&nbsp;',
  '&#8203;',
  '<',
  '>',
  '"',
  "'",
  '😀',
  '会議',
  'שלום',
  ' ',
];
const RAW = [
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '</',
  '<',
  '<?',
  '<!',
  '/>',
  '=',
  '"',
  "'",
  '`',
  '\u0000',
  '&',
  '&#',
];

const attribute = fc
  .tuple(
    fc.constantFrom(...ATTRIBUTE_NAMES),
    fc.constantFrom(...ATTRIBUTE_VALUES),
    fc.constantFrom('"', "'", '', 'none'),
  )
  .map(([name, value, quote]) =>
    quote === 'none'
      ? ` ${name}`
      : quote === ''
        ? ` ${name}=${value.replace(/[\s>]/g, '')}`
        : ` ${name}=${quote}${value}${quote}`,
  );

const text = fc.oneof(
  fc.constantFrom(...TEXTS),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

const { markup } = fc.letrec<{ markup: string; node: string; element: string }>((tie) => ({
  markup: fc.array(tie('node'), { maxLength: 6 }).map((nodes) => nodes.join('')),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.constantFrom(...RAW),
    tie('element'),
  ),
  element: fc
    .tuple(
      fc.constantFrom(...TAGS),
      fc.array(attribute, { maxLength: 3 }),
      tie('markup'),
      fc.constantFrom('close', 'close', 'close', 'open', 'self'),
    )
    .map(([tag, attrs, inner, end]) => {
      const open = `<${tag}${attrs.join('')}${end === 'self' ? '/' : ''}>`;
      return end === 'close' ? `${open}${inner}</${tag}>` : `${open}${inner}`;
    }),
}));

function normalized(input: string): { html: string; hasVisibleText: boolean } {
  const result = normalizeNoteHtml(input);
  if (!result.ok) throw new Error(`unexpected ${result.reasonCode} for ${JSON.stringify(input)}`);
  return result;
}

describe('normalizeNoteHtml on random hostile markup', () => {
  it('leaves only allowed elements, attributes and link schemes, and again after a second pass', () => {
    fc.assert(
      fc.property(markup, (input) => {
        const once = normalized(input).html;
        expect(findViolations(once), once).toEqual([]);
        expect(findViolations(normalized(once).html)).toEqual([]);
      }),
      { numRuns: 600 },
    );
  });

  it('reports visible text exactly when a browser would show some', () => {
    fc.assert(
      fc.property(markup, (input) => {
        const { html, hasVisibleText } = normalized(input);
        expect(hasVisibleText, html).toBe(/[^\s\p{Cc}\p{Cf}]/u.test(visibleText(html)));
      }),
      { numRuns: 400 },
    );
  });
});
