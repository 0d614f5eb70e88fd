/**
 * The pure half of the SSRF guard (DESIGN.md §8): what a URL says about itself — scheme,
 * credentials, port, host — checked before any DNS lookup or connection. DNS and address checks
 * live in `url-vetter.ts`; this module does no I/O.
 */
import { isIP } from 'node:net';
import { domainToUnicode } from 'node:url';

import { type AddressPolicy } from './address-policy.js';

/** Why the guard refused a URL. Stable tokens: the CLI prints them and failure records keep them. */
export const BLOCK_REASONS = [
  'invalid-url',
  'scheme-not-allowed',
  'credentials-in-url',
  'non-canonical-url',
  'port-not-allowed',
  'host-not-allowed',
  'non-public-address',
  'dns-failed',
] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

export interface UrlPolicy {
  /** Exact host names, IP literals and `*.suffix` wildcards (ATTACHMENT_HOSTS). Empty allows nothing. */
  allowedHosts: readonly string[];
  /** Plain http as well as https (ATTACHMENT_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Ports a URL may name or imply (ATTACHMENT_ALLOWED_PORTS). */
  allowedPorts: readonly number[];
}

/** A URL that passed the pure checks: its host normalised, its port made explicit. */
export interface CheckedUrl {
  url: URL;
  /** Lower-case, IDNA (punycode) host without a trailing dot; IPv6 without brackets. */
  host: string;
  /** 4 or 6 when the host is an IP literal, 0 for a name. */
  ipVersion: 0 | 4 | 6;
  port: number;
}

export type Blocked = { ok: false; reason: BlockReason; detail: string };
export type UrlCheck = { ok: true; target: CheckedUrl } | Blocked;

export function blocked(reason: BlockReason, detail: string): Blocked {
  return { ok: false, reason, detail };
}

/**
 * One host as the WHATWG URL parser sees it: lower case, IDNA-normalised, IPv4 shorthand
 * (`2130706433`, `0x7f.1`, `0177.0.0.1`) in dotted form, IPv6 compressed; then the trailing dot
 * and IPv6 brackets removed. Returns null when it is not a valid host.
 */
export function normalizeHost(raw: string): string | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  const bracketed = isIP(trimmed) === 6 ? `[${trimmed}]` : trimmed;
  let hostname: string;
  try {
    const parsed = new URL(`http://${bracketed}/`);
    if (parsed.username || parsed.password || parsed.port || parsed.pathname !== '/') return null;
    hostname = parsed.hostname;
  } catch {
    return null;
  }
  return stripHost(hostname);
}

function stripHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/** A compiled allow-list: exact hosts (names and IP literals) and wildcard suffixes. */
export interface HostAllowList {
  exact: ReadonlySet<string>;
  /** `.example.com` for `*.example.com`: matches any name below it, never the apex. */
  suffixes: readonly string[];
  /** Entries that are not valid hosts, so callers can warn about them. */
  invalid: readonly string[];
}

export function compileAllowList(entries: readonly string[]): HostAllowList {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    const wildcard = entry.trim().startsWith('*.');
    const host = normalizeHost(wildcard ? entry.trim().slice(2) : entry);
    if (host === null || (wildcard && isIP(host) !== 0)) {
      invalid.push(entry);
    } else if (wildcard) {
      suffixes.push(`.${host}`);
    } else {
      exact.add(host);
    }
  }
  return { exact, suffixes, invalid };
}

/**
 * Is the host on the list? Names match exactly or below a wildcard suffix; an IP literal matches
 * only an exact IP entry (a wildcard never matches an address).
 */
export function isHostAllowed(host: string, list: HostAllowList): boolean {
  if (list.exact.has(host)) return true;
  if (isIP(host) !== 0) return false;
  return list.suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
}

/**
 * The pure checks, in order: parse, scheme, credentials, port, then for an IP literal the address
 * policy (so `http://169.254.169.254/` is reported as the metadata address it is, even when an
 * operator listed it), then the canonical form, then the allow-list. Nothing here opens a socket
 * or asks DNS.
 */
export function checkUrl(
  raw: string,
  policy: UrlPolicy,
  allowList: HostAllowList,
  addressPolicy: AddressPolicy,
): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return blocked('invalid-url', 'not an absolute URL');
  }
  const schemeAllowed = url.protocol === 'https:' || (policy.allowHttp && url.protocol === 'http:');
  if (!schemeAllowed) {
    const allowed = policy.allowHttp ? 'https or http' : 'https (http needs ATTACHMENT_ALLOW_HTTP=true)';
    return blocked('scheme-not-allowed', `scheme ${url.protocol.replace(/:$/, '')} is not ${allowed}`);
  }
  if (url.username !== '' || url.password !== '') {
    return blocked('credentials-in-url', 'the URL carries a user name or password before its host');
  }
  // The scheme is https or http by now: its default port is 443 or 80.
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (!policy.allowedPorts.includes(port)) {
    return blocked('port-not-allowed', `port ${port} is not in ATTACHMENT_ALLOWED_PORTS`);
  }
  const host = stripHost(url.hostname);
  const ipVersion = isIP(host) as 0 | 4 | 6;
  if (host === '') return blocked('invalid-url', 'the URL has no host');
  if (ipVersion !== 0) {
    const verdict = addressPolicy.check(host);
    if (!verdict.allowed) {
      return blocked('non-public-address', `${verdict.address} is ${verdict.addressClass}`);
    }
  }
  const nonCanonical = tryFindNonCanonicalForm(raw, url);
  if (nonCanonical !== null) return blocked('non-canonical-url', nonCanonical);
  if (!isHostAllowed(host, allowList)) {
    return blocked('host-not-allowed', `host ${host} is not on ATTACHMENT_HOSTS`);
  }
  return { ok: true, target: { url, host, ipVersion, port } };
}

/**
 * Why the raw text of a URL is not already the form every parser reads the same way, or null
 * (issue #11). The WHATWG parser quietly repairs these; another parser (a proxy, a logger, the
 * CRM's own tooling) may read a different host, so such a URL is never fetched:
 * control characters (CR, LF, tab…), a backslash, `https:host` without `//` (or with more
 * slashes), a percent-encoded host, a host that only reads as ours after IDNA mapping
 * (full-width letters, IPv4 shorthand, non-NFC text), a trailing dot, an explicit default or
 * empty port. Upper-case letters in scheme or host are harmless (every parser folds them).
 */
export function tryFindNonCanonicalForm(raw: string, url: URL): string | null {
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(raw);
  if (control)
    return `control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')} in the URL`;
  const text = raw.trim();
  if (text.includes('\\')) return 'a backslash in the URL';
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1];
  if (!authority) return 'the scheme is not followed by exactly "//" and a host';
  if (authority.includes('@')) return 'an "@" before the host';
  const portAt = authority.startsWith('[') ? authority.indexOf(']:') + 1 : authority.lastIndexOf(':');
  const rawHost = portAt > 0 ? authority.slice(0, portAt) : authority;
  const rawPort = portAt > 0 ? authority.slice(portAt + 1) : null;
  if (rawHost.includes('%')) return `percent-encoded host ${JSON.stringify(rawHost)}`;
  if (rawHost.endsWith('.')) return `trailing dot in host ${JSON.stringify(rawHost)}`;
  const parsedHost = url.hostname;
  const readable = parsedHost.startsWith('[') ? parsedHost : domainToUnicode(parsedHost);
  if (rawHost.toLowerCase() !== parsedHost && rawHost.toLowerCase() !== readable) {
    return `host ${JSON.stringify(rawHost)} reads as ${parsedHost}`;
  }
  if (rawPort !== null && (rawPort === '' || rawPort !== url.port)) {
    return url.port === '' && rawPort !== ''
      ? `explicit default port ${rawPort}`
      : `port written as ${JSON.stringify(rawPort)}`;
  }
  return null;
}
