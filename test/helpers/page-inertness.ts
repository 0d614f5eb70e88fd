/**
 * Judges a console page the way a browser parses it (parse5, the WHATWG algorithm): lists every
 * way markup could run code — a script that is not one of the console's own files, an event
 * handler attribute, a `javascript:` URL, an element that loads or embeds content — so a test can
 * prove hostile data rendered as text only (#17).
 */
import { type DefaultTreeAdapterTypes, parse } from 'parse5';

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster']);
const EMBEDDING = new Set(['iframe', 'object', 'embed', 'img', 'image', 'frame', 'base']);
const CONSOLE_SCRIPT = /^\/private\/console\/assets\/[a-z-]+\.js$/;

function* elements(node: Node): Generator<Element> {
  if ('tagName' in node) yield node;
  const children = 'childNodes' in node ? node.childNodes : [];
  for (const child of children) yield* elements(child);
  if ('content' in node && node.content) yield* elements(node.content);
}

export function findActiveMarkup(page: string): string[] {
  const problems: string[] = [];
  for (const el of elements(parse(page))) {
    const attrs = new Map(el.attrs.map((a) => [a.name.toLowerCase(), a.value]));
    if (el.tagName === 'script') {
      const src = attrs.get('src') ?? '';
      const inline = el.childNodes.length > 0;
      if (!CONSOLE_SCRIPT.test(src) || inline) problems.push(`<script src="${src}"> (inline: ${inline})`);
    }
    if (EMBEDDING.has(el.tagName)) problems.push(`<${el.tagName}>`);
    if (el.tagName === 'meta' && (attrs.get('http-equiv') ?? '').toLowerCase() === 'refresh')
      problems.push('<meta refresh>');
    for (const [name, value] of attrs) {
      if (name.startsWith('on')) problems.push(`<${el.tagName} ${name}="${value.slice(0, 40)}">`);
      if (name === 'style') problems.push(`<${el.tagName} style>`);
      if (URL_ATTRIBUTES.has(name) && /^\s*(javascript|data|vbscript):/i.test(value)) {
        problems.push(`<${el.tagName} ${name}="${value.slice(0, 40)}">`);
      }
    }
  }
  return problems;
}

/** The page's text as a browser shows it (entities decoded), for "it rendered as text" checks. */
export function textOf(page: string): string {
  const parts: string[] = [];
  const walk = (node: Node) => {
    if (node.nodeName === '#text' && 'value' in node) parts.push(node.value);
    if ('childNodes' in node) for (const child of node.childNodes) walk(child);
    if ('content' in node && node.content) walk(node.content);
  };
  walk(parse(page));
  return parts.join('');
}
