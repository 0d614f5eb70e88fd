/**
 * Every vector of the hostile corpus (test/fixtures/xss-vectors.txt, with its sources) comes out
 * safe as a browser parses it, and stays safe when normalized again (mutation-XSS guard, #3).
 */
import { describe, expect, it } from 'vitest';

import { normalizeNoteHtml } from '../../../src/normalize/normalize-note-html.js';
import { loadXssVectors } from '../../fixtures/xss-vectors.js';
import { findViolations } from '../../helpers/html-oracle.js';

const vectors = loadXssVectors();

function normalizedHtml(input: string): string {
  const result = normalizeNoteHtml(input);
  if (!result.ok) throw new Error(`unexpected ${result.reasonCode}`);
  return result.html;
}

describe('the safety oracle', () => {
  it.each([
    ['a script', '<script>alert(1)</script>'],
    ['an event handler', '<b onclick="x()">b</b>'],
    ['an image', '<img src=x>'],
    [
      'a javascript: link behind entities and spaces',
      '<a href=" &#x6A;ava&#x09;script:x" rel="nofollow">x</a>',
    ],
    ['a data: link', '<a href="data:text/html,x" rel="nofollow">x</a>'],
    ['a relative link', '<a href="/x" rel="nofollow">x</a>'],
    ['a link without rel', '<a href="https://x.example">x</a>'],
    ['svg', '<svg></svg>'],
    ['a comment', '<!-- x -->'],
    ['a p inside svg (foreign namespace)', '<svg><p>x</p></svg>'],
  ])('flags %s, so a pass below means something', (_name, html) => {
    expect(findViolations(html)).not.toEqual([]);
  });

  it('accepts what the policy allows', () => {
    expect(findViolations('<p><b>x</b><a href="mailto:a@b.example" rel="nofollow">m</a><br /></p>')).toEqual(
      [],
    );
  });
});

describe('hostile corpus', () => {
  it('holds at least 150 vectors from every listed source', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(150);
    const sources = new Set(vectors.map((v) => v.source));
    expect([...sources].sort()).toEqual(['crm', 'ghsa', 'malformed', 'mxss', 'owasp', 'portswigger', 'url']);
  });

  it.each(vectors.map((v) => [`${v.source} line ${v.line}`, v] as const))(
    'leaves only allowed elements, attributes and link schemes, twice over (%s)',
    (_name, vector) => {
      const once = normalizedHtml(vector.html);
      expect(findViolations(once), `after one pass: ${once}`).toEqual([]);
      const twice = normalizedHtml(once);
      expect(findViolations(twice), `after two passes: ${twice}`).toEqual([]);
    },
  );

  it('reports how many vectors are not byte-stable under a second pass', () => {
    const unstable = vectors.filter((v) => {
      const once = normalizedHtml(v.html);
      return normalizedHtml(once) !== once;
    });
    console.info(
      `[hostile corpus] ${unstable.length} of ${vectors.length} vectors are not byte-stable under a second pass` +
        (unstable.length ? `: lines ${unstable.map((v) => v.line).join(', ')}` : ''),
    );
    // Stability is desirable, safety (the test above) is required. Today every vector is stable;
    // a change that makes some unstable must show they are still safe, then update this baseline.
    expect(unstable.map((v) => v.line)).toEqual([]);
  });
});
