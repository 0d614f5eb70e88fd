/**
 * The sanitize-html policy of a migrated note (DESIGN.md §9, #3): what may reach CDP and why.
 * It knows nothing of CRM mentions or length limits; `normalize-note-html.ts` adds those.
 */
import { createHash } from 'node:crypto';

import type sanitizeHtml from 'sanitize-html';

/** The only elements a note may keep: the formatting people write, nothing that loads or runs. */
export const ALLOWED_TAGS = [
  'a',
  'b',
  'i',
  'strong',
  'em',
  'u',
  's',
  'span',
  'br',
  'div',
  'p',
  'ul',
  'ol',
  'li',
  'blockquote',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
] as const;
export type AllowedTag = (typeof ALLOWED_TAGS)[number];

/**
 * Disallowed elements dropped together with their content, because that content is code, markup
 * in another namespace or form state, never prose. Every other disallowed element is unwrapped
 * so its text stays. `xmp` must be listed: htmlparser2 reads it as raw text, and without it here
 * sanitize-html ≤ 2.17.3 re-emitted that text unescaped (GHSA-rpr9-rxv7-x643).
 */
export const CODE_CONTENT_TAGS = [
  'script',
  'style',
  'template',
  'noscript',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'svg',
  'math',
  'xmp',
  'textarea',
  'title',
  'noembed',
  'noframes',
  'plaintext',
  'option',
  'select',
] as const;

/** Link schemes kept: web and mail. Everything else (javascript:, data:, vbscript:, file:, …) goes. */
export const ALLOWED_HREF_PROTOCOLS: ReadonlySet<string> = new Set(['http:', 'https:', 'mailto:']);

/**
 * Is `href` (entity-decoded, as the parser hands it over) an absolute http, https or mailto URL?
 * Parsed by the WHATWG URL parser, which is what a browser does with it: leading control
 * characters and spaces are stripped and tabs/newlines removed before the scheme is read, so
 * `&#x09;java&#x0A;script:` is seen as `javascript:`. Relative and protocol-relative URLs are
 * refused: a CRM-relative link would point into CDP's own origin once migrated.
 */
export function isAllowedHref(href: string): boolean {
  try {
    return ALLOWED_HREF_PROTOCOLS.has(new URL(href).protocol);
  } catch {
    return false;
  }
}

/**
 * A kept link carries only its vetted `href` and `rel="nofollow"`. A link without an acceptable
 * href keeps no attribute, and `unwrapHreflessAnchor` then drops its tags and keeps its text.
 */
export function transformAnchor(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const href = attribs.href;
  if (href === undefined || !isAllowedHref(href)) return { tagName, attribs: {} };
  return { tagName, attribs: { href, rel: 'nofollow' } };
}

/**
 * An `<a>` left without href (its href was refused, or it never had one) is unwrapped: it would
 * only look like a link. Done as sanitize-html's documented `excludeTag` filter rather than by
 * renaming the tag in `transformTags`: sanitize-html 2.17.5 remembers a renamed, disallowed
 * tag's name by depth and writes it as the closing tag of the next allowed element at that depth
 * (`<a href="javascript:x">c</a><b>b</b>` → `c<b>b</zz>`).
 */
export function unwrapHreflessAnchor(frame: sanitizeHtml.IFrame): boolean | 'excludeTag' {
  return frame.tag === 'a' && frame.attribs.href === undefined ? 'excludeTag' : false;
}

/**
 * The options, deny by default. sanitize-html's own scheme check stays on as a second line
 * behind `transformAnchor`. Bare text is never wrapped in `<p>` (sanitize-html does not wrap).
 */
export const SANITIZE_POLICY: Readonly<sanitizeHtml.IOptions> = Object.freeze({
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: { a: ['href', { name: 'rel', values: ['nofollow'] }] },
  allowedClasses: {},
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: {},
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: [...CODE_CONTENT_TAGS],
  enforceHtmlBoundary: false,
  // No element keeps a style attribute, so postcss never needs to run.
  parseStyleAttributes: false,
  transformTags: { a: transformAnchor },
  exclusiveFilter: unwrapHreflessAnchor,
});

/**
 * SHA-256 of the policy as it runs: the options above (functions by their source text, so a
 * changed filter changes the digest) and the length limit. Stamped on every run (DESIGN.md §11.9),
 * so two runs of one tenant can be told apart after a policy change.
 */
export function sanitizerPolicyDigest(maxNoteLength: number): string {
  const text = JSON.stringify({ policy: SANITIZE_POLICY, maxNoteLength }, (_key, value: unknown) =>
    typeof value === 'function' ? value.toString() : value,
  );
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
