/**
 * The DNS seam of the SSRF guard: host name → every address it resolves to. The system resolver
 * in production; a fixed table for tests and `check-url --resolve`.
 */
import { lookup } from 'node:dns/promises';

export interface HostResolver {
  /** Every address of `hostname` (IPv4 and IPv6). Throws when the name does not resolve. */
  resolve(hostname: string): Promise<string[]>;
}

/**
 * `dns.lookup` (getaddrinfo) with `all: true`: the same answers, /etc/hosts included, that a
 * plain connect would use, so nothing the system would reach escapes the check.
 */
export function createSystemResolver(): HostResolver {
  return {
    async resolve(hostname) {
      const answers = await lookup(hostname, { all: true, verbatim: true });
      return answers.map((a) => a.address);
    },
  };
}

/**
 * Answers from a table (host → addresses) for the hosts it names; other hosts go to `fallback`,
 * or fail when there is none. Host keys are compared lower-case without a trailing dot.
 */
export function createStaticResolver(
  table: ReadonlyMap<string, readonly string[]>,
  fallback?: HostResolver,
): HostResolver {
  const normalized = new Map<string, readonly string[]>();
  for (const [host, addresses] of table) normalized.set(host.toLowerCase().replace(/\.$/, ''), addresses);
  return {
    resolve(hostname) {
      const answer = normalized.get(hostname.toLowerCase().replace(/\.$/, ''));
      if (answer) return Promise.resolve([...answer]);
      if (fallback) return fallback.resolve(hostname);
      return Promise.reject(new Error(`no address given for ${hostname}`));
    },
  };
}
