/**
 * Server-side HTML for the operator console (#17): a tagged template that escapes every value it
 * is given, so markup can only come from template literals written here. Hand-written (~50 lines)
 * rather than a template engine: the console needs escaping and composition, nothing else, and one
 * rule — "everything interpolated is text" — is easy to check. Values must be placed in element
 * text or in double-quoted attributes; never in `<script>`, `style`, event-handler attributes or
 * URL attributes other than the console's own links built by `hrefOf`.
 */

/** Builds SafeHtml; set by the class's static block, so nothing outside this module can. */
let fromEscaped: (markup: string) => SafeHtml;

/** Markup that is safe to send: only `html` makes it, from its literals and escaped values. */
export class SafeHtml {
  static {
    fromEscaped = (markup) => new SafeHtml(markup);
  }

  private constructor(readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['&', '&amp;'],
  ['<', '&lt;'],
  ['>', '&gt;'],
  ['"', '&quot;'],
  ["'", '&#39;'],
  ['`', '&#96;'],
]);

/** Text → HTML text or attribute value (double- or single-quoted). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES.get(c) ?? c);
}

/** A value as it appears in a page: `SafeHtml` as is, arrays joined, null/undefined/false as nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** `html\`<td>${value}</td>\`` — every `${}` is escaped unless it is `SafeHtml`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return fromEscaped(out);
}

/**
 * A console link: a path of ours plus query parameters, each percent-encoded. Never a URL that
 * came from data, so no `javascript:` or foreign host can become a link.
 */
export function hrefOf(
  path: `/private/${string}`,
  query: Record<string, string | number | undefined> = {},
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const search = params.toString();
  return search === '' ? path : `${path}?${search}`;
}
