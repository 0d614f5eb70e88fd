/**
 * Which IP addresses an attachment download may connect to (DESIGN.md §8). Pure: an address in,
 * a verdict out. Deny by default: only global unicast is public; every special range, every
 * IPv6 form that embeds an IPv4 address (mapped, compatible, NAT64) is judged by its IPv4 part.
 */
import { isIP } from 'node:net';

import ipaddr from 'ipaddr.js';

/** Why an address is not public. `public` is the only class a production download may reach. */
export const ADDRESS_CLASSES = [
  'public',
  'invalid',
  'unspecified',
  'loopback',
  'private',
  'unique-local',
  'link-local',
  'carrier-grade-nat',
  'multicast',
  'broadcast',
  'reserved',
  'cloud-metadata',
  'tunnel',
  'non-global',
] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

/**
 * The classes the development switch `ATTACHMENT_ALLOW_PRIVATE_NETWORKS` opens: enough for a fake
 * CRM on localhost or a LAN. Metadata, unspecified (0.0.0.0 reaches localhost on Linux),
 * multicast and the rest stay closed even then.
 */
const DEV_ALLOWED_CLASSES: ReadonlySet<AddressClass> = new Set([
  'loopback',
  'private',
  'unique-local',
  'carrier-grade-nat',
]);

/**
 * Cloud instance-metadata and platform endpoints. Most sit inside ranges that are blocked anyway;
 * they are named so the verdict says "cloud-metadata", and so the development switch never opens
 * them. 168.63.129.16 (Azure WireServer) is a *public* address and would pass otherwise.
 */
const CLOUD_METADATA_ADDRESSES: ReadonlySet<string> = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean
  '169.254.170.2', // AWS ECS task metadata
  '169.254.169.123', // AWS time sync
  '169.254.169.253', // AWS VPC DNS
  '100.100.100.200', // Alibaba Cloud
  '168.63.129.16', // Azure WireServer
  'fd00:ec2::254', // AWS IMDS over IPv6
  'fd00:ec2::23', // AWS Time Sync over IPv6
]);

/** ipaddr.js range names → our classes. Anything not listed (and not unicast) is `reserved`. */
const IPV4_RANGE_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade-nat',
  private: 'private',
  reserved: 'reserved', // 192.0.0/24, TEST-NETs (documentation), 198.18/15 (benchmark), 240/4
  as112: 'reserved',
  amt: 'reserved',
};

const IPV6_RANGE_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'link-local',
  '6to4': 'tunnel',
  teredo: 'tunnel',
  rfc6145: 'tunnel',
};

export interface AddressVerdict {
  /** The address as judged: canonical form, with an embedded IPv4 address unwrapped. */
  address: string;
  addressClass: AddressClass;
  allowed: boolean;
}

export interface AddressPolicy {
  check(address: string): AddressVerdict;
}

/** The class of one address; `invalid` for anything that is not an IP address. */
export function classifyAddress(raw: string): { address: string; addressClass: AddressClass } {
  const text = raw.replace(/^\[|\]$/g, '');
  // Strict forms only (net.isIP): ipaddr.js also parses legacy `2130706433`, which no resolver
  // answers and the URL parser has already turned into dotted form.
  if (isIP(text) === 0) return { address: raw, addressClass: 'invalid' };
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv4') return classifyIpv4(parsed as ipaddr.IPv4);
  return classifyIpv6(parsed as ipaddr.IPv6);
}

function classifyIpv4(ip: ipaddr.IPv4): { address: string; addressClass: AddressClass } {
  const address = ip.toString();
  if (CLOUD_METADATA_ADDRESSES.has(address)) return { address, addressClass: 'cloud-metadata' };
  return { address, addressClass: IPV4_RANGE_CLASSES[ip.range()] ?? 'reserved' };
}

function classifyIpv6(ip: ipaddr.IPv6): { address: string; addressClass: AddressClass } {
  const embedded = embeddedIpv4(ip);
  if (embedded) return classifyIpv4(embedded);
  const address = ip.toString();
  if (CLOUD_METADATA_ADDRESSES.has(address)) return { address, addressClass: 'cloud-metadata' };
  const range = ip.range();
  const known = IPV6_RANGE_CLASSES[range];
  if (known === 'public') {
    // ipaddr.js calls everything it has no name for "unicast"; only 2000::/3 is routed globally.
    return { address, addressClass: ip.match(GLOBAL_UNICAST) ? 'public' : 'non-global' };
  }
  return { address, addressClass: known ?? 'reserved' };
}

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * The IPv4 address an IPv6 address stands for, when it stands for one: IPv4-mapped
 * (`::ffff:a.b.c.d`), deprecated IPv4-compatible (`::a.b.c.d`, not `::` or `::1`) and well-known
 * NAT64 (`64:ff9b::a.b.c.d`, which a NAT64 gateway forwards to that IPv4 address).
 */
function embeddedIpv4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address();
  const lastTwo = (): ipaddr.IPv4 => {
    const [p6 = 0, p7 = 0] = ip.parts.slice(6);
    return new ipaddr.IPv4([p6 >> 8, p6 & 0xff, p7 >> 8, p7 & 0xff]);
  };
  if (ip.match(NAT64_WELL_KNOWN)) return lastTwo();
  if (ip.match(IPV4_COMPATIBLE)) {
    const v4 = lastTwo();
    // `::` and `::1` are IPv6's own unspecified and loopback, not IPv4-compatible addresses.
    if (v4.toString() === '0.0.0.0' || v4.toString() === '0.0.0.1') return null;
    return v4;
  }
  return null;
}

/**
 * The production policy allows `public` only. With `allowPrivateNetworks` (development only,
 * refused by config when NODE_ENV=production) loopback, RFC 1918, unique-local and CGNAT open too.
 */
export function createAddressPolicy(options: { allowPrivateNetworks: boolean }): AddressPolicy {
  return {
    check(raw) {
      const { address, addressClass } = classifyAddress(raw);
      const allowed =
        addressClass === 'public' || (options.allowPrivateNetworks && DEV_ALLOWED_CLASSES.has(addressClass));
      return { address, addressClass, allowed };
    },
  };
}
