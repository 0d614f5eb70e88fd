/**
 * Deliberate seams for SSRF tests. Every test server listens on loopback, which the real address
 * policy rightly refuses; to exercise the *pinned connection* path the policy must believe some
 * loopback address is public. `policyTreatingAsPublic` does exactly that for the addresses named
 * (127.0.0.2 by convention) and defers to the production policy for everything else, so
 * 127.0.0.1 — the "internal" server — stays blocked.
 */
import { type AddressPolicy, createAddressPolicy } from '../../src/attachments/address-policy.js';
import type { HostResolver } from '../../src/attachments/host-resolver.js';

export function policyTreatingAsPublic(addresses: readonly string[]): AddressPolicy {
  const production = createAddressPolicy({ allowPrivateNetworks: false });
  return {
    check(address) {
      if (addresses.includes(address)) return { address, addressClass: 'public', allowed: true };
      return production.check(address);
    },
  };
}

export interface CountingResolver extends HostResolver {
  /** Host names asked, in order. */
  asked: string[];
}

/**
 * A resolver from a table whose answers may change per call: `answers[host][n]` is the n-th
 * answer (the last repeats), which is how DNS rebinding looks from the client.
 */
export function scriptedResolver(answers: Record<string, string[][]>): CountingResolver {
  const asked: string[] = [];
  const calls = new Map<string, number>();
  return {
    asked,
    resolve(hostname) {
      asked.push(hostname);
      const script = answers[hostname];
      if (!script || script.length === 0) {
        return Promise.reject(Object.assign(new Error(`no answer for ${hostname}`), { code: 'ENOTFOUND' }));
      }
      const n = calls.get(hostname) ?? 0;
      calls.set(hostname, n + 1);
      return Promise.resolve([...(script[Math.min(n, script.length - 1)] ?? [])]);
    },
  };
}
