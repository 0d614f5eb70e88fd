/**
 * An independent judge of normalized note HTML (#3): parses it the way a browser does (parse5,
 * the WHATWG parsing algorithm, as `innerHTML` of a `<div>`) and lists every rule it breaks.
 * It deliberately restates the allow-list instead of importing the policy it checks.
 */
import { defaultTreeAdapter, type DefaultTreeAdapterTypes, html as parse5Html, parseFragment } from 'parse5';

type Node = DefaultTreeAdapterTypes.Node;

export const ORACLE_ALLOWED_TAGS: ReadonlySet<string> = new Set(
  'a b i strong em u s span br div p ul ol li blockquote h1 h2 h3 h4 h5 h6 pre'.split(' '),
);

/**
 * What a browser is left with after entity decoding (the parser did that) and after dropping
 * every control character, space and invisible format character anywhere in the value.
 */
function stripInvisible(value: string): string {
  return [...value].filter((ch) => !isInvisible(ch.codePointAt(0)!)).join('');
}

function isInvisible(code: number): boolean {
  return (
    code <= 0x20 ||
    (code >= 0x7f && code <= 0xa0) ||
    code === 0xad ||
    code === 0x180e ||
    (code >= 0x2000 && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202f) ||
    (code >= 0x205f && code <= 0x206f) ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

const ALLOWED_SCHEME = /^(?:https?|mailto):/i;

export function parseAsBrowser(html: string): DefaultTreeAdapterTypes.DocumentFragment {
  const context = defaultTreeAdapter.createElement('div', parse5Html.NS.HTML, []);
  return parseFragment(context, html, {});
}

/** Every broken rule, as readable lines; empty when the HTML is safe to render. */
export function findViolations(html: string): string[] {
  const violations: string[] = [];
  walk(parseAsBrowser(html), (node) => {
    if (node.nodeName === '#comment') violations.push('comment node');
    if (!('tagName' in node)) return;
    const element = node;
    const name = element.tagName;
    if (element.namespaceURI !== parse5Html.NS.HTML)
      violations.push(`<${name}> in namespace ${element.namespaceURI}`);
    if (!ORACLE_ALLOWED_TAGS.has(name)) violations.push(`element <${name}> is not allowed`);
    for (const attr of element.attrs) {
      const allowed = name === 'a' && (attr.name === 'href' || attr.name === 'rel') && !attr.namespace;
      if (!allowed) violations.push(`attribute ${attr.name} on <${name}>`);
      if (name === 'a' && attr.name === 'rel' && attr.value !== 'nofollow')
        violations.push(`rel="${attr.value}"`);
      if (name === 'a' && attr.name === 'href' && !ALLOWED_SCHEME.test(stripInvisible(attr.value))) {
        violations.push(`href ${JSON.stringify(attr.value)} is not http/https/mailto`);
      }
    }
    if (
      name === 'a' &&
      element.attrs.some((a) => a.name === 'href') &&
      !element.attrs.some((a) => a.name === 'rel')
    ) {
      violations.push('link without rel="nofollow"');
    }
  });
  return violations;
}

/** The text a reader sees, as the browser parsed it. */
export function visibleText(html: string): string {
  let text = '';
  walk(parseAsBrowser(html), (node) => {
    if (node.nodeName === '#text') text += (node as DefaultTreeAdapterTypes.TextNode).value;
  });
  return text;
}

/** Element names in document order, e.g. `['p', 'b', 'a']`. */
export function elementNames(html: string): string[] {
  const names: string[] = [];
  walk(parseAsBrowser(html), (node) => {
    if ('tagName' in node) names.push(node.tagName);
  });
  return names;
}

function walk(node: Node, visit: (node: Node) => void): void {
  if (node.nodeName !== '#document-fragment') visit(node);
  if ('childNodes' in node) for (const child of node.childNodes) walk(child, visit);
  if (node.nodeName === 'template') walk((node as DefaultTreeAdapterTypes.Template).content, visit);
}
