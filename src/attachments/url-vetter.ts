/**
 * The whole SSRF verdict on one URL: the pure checks of `ssrf-guard.ts`, then DNS, then every
 * resolved address against the address policy. A vetted URL carries the addresses it was judged
 * on; the downloader connects to those and nothing else (`pinned-dispatcher.ts`).
 */
import { type AddressPolicy } from './address-policy.js';
import { type HostResolver } from './host-resolver.js';
import {
  type Blocked,
  blocked,
  type CheckedUrl,
  checkUrl,
  compileAllowList,
  type UrlPolicy,
} from './ssrf-guard.js';

export interface VettedUrl extends CheckedUrl {
  /** Every address the host resolved to, all allowed by the address policy. */
  addresses: readonly string[];
}

export type UrlVerdict = { ok: true; target: VettedUrl } | Blocked;

export interface UrlVetter {
  vet(url: string): Promise<UrlVerdict>;
}

export interface UrlVetterDeps {
  policy: UrlPolicy;
  addressPolicy: AddressPolicy;
  resolver: HostResolver;
}

export function createUrlVetter(deps: UrlVetterDeps): UrlVetter {
  const allowList = compileAllowList(deps.policy.allowedHosts);
  return {
    async vet(raw) {
      const checked = checkUrl(raw, deps.policy, allowList, deps.addressPolicy);
      if (!checked.ok) return checked;
      const target = checked.target;
      // An IP literal was judged by checkUrl already, and connecting to it involves no DNS.
      if (target.ipVersion !== 0) return { ok: true, target: { ...target, addresses: [target.host] } };

      let addresses: string[];
      try {
        addresses = await deps.resolver.resolve(target.host);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        return blocked(
          'dns-failed',
          `${target.host} did not resolve${typeof code === 'string' ? ` (${code})` : ''}`,
        );
      }
      if (addresses.length === 0) return blocked('dns-failed', `${target.host} resolved to no address`);
      // ANY bad answer blocks: a name that also points inside the network is not trusted at all.
      for (const address of addresses) {
        const verdict = deps.addressPolicy.check(address);
        if (!verdict.allowed) {
          return blocked(
            'non-public-address',
            `${target.host} resolves to ${verdict.address}, which is ${verdict.addressClass}`,
          );
        }
      }
      return { ok: true, target: { ...target, addresses } };
    },
  };
}
