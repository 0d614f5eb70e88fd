import { describe, expect, it } from 'vitest';

import { classifyAddress, createAddressPolicy } from '../../../src/attachments/address-policy.js';

describe('address policy', () => {
  const production = createAddressPolicy({ allowPrivateNetworks: false });
  const development = createAddressPolicy({ allowPrivateNetworks: true });

  it.each([
    ['169.254.169.254', 'cloud-metadata'],
    ['169.254.170.2', 'cloud-metadata'],
    ['100.100.100.200', 'cloud-metadata'],
    ['168.63.129.16', 'cloud-metadata'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'], // TEST-NET-1 (documentation)
    ['198.51.100.7', 'reserved'], // TEST-NET-2
    ['203.0.113.9', 'reserved'], // TEST-NET-3
    ['198.18.0.1', 'reserved'], // benchmarking
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['2001:db8::1', 'reserved'], // documentation
    ['fc00::1', 'unique-local'],
    ['2002:7f00:1::', 'tunnel'], // 6to4
    ['2001::1', 'tunnel'], // Teredo
    ['100::1', 'reserved'], // discard-only
    ['not-an-address', 'invalid'],
    ['2130706433', 'invalid'], // only the URL parser may turn this into 127.0.0.1
  ])('classifies %s as %s and blocks it in production', (address, addressClass) => {
    expect(classifyAddress(address).addressClass).toBe(addressClass);
    expect(production.check(address).allowed).toBe(false);
  });

  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', '127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', '169.254.169.254', 'cloud-metadata'],
    ['::ffff:10.0.0.1', '10.0.0.1', 'private'],
    ['::127.0.0.1', '127.0.0.1', 'loopback'], // IPv4-compatible (deprecated)
    ['::a9fe:a9fe', '169.254.169.254', 'cloud-metadata'],
    ['64:ff9b::7f00:1', '127.0.0.1', 'loopback'], // NAT64
    ['64:ff9b::a00:1', '10.0.0.1', 'private'],
  ])('unwraps the IPv4 address inside %s and judges %s', (address, unwrapped, addressClass) => {
    expect(classifyAddress(address)).toEqual({ address: unwrapped, addressClass });
    expect(production.check(address).allowed).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.216.34', '64:ff9b::5db8:d822'])(
    'allows the public address %s',
    (address) => {
      expect(production.check(address)).toMatchObject({ allowed: true, addressClass: 'public' });
    },
  );

  it('opens loopback, private, unique-local and CGNAT with the development switch, and nothing else', () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.1', '192.168.0.2', 'fd12::1', '100.64.1.1']) {
      expect(development.check(address).allowed, address).toBe(true);
    }
    for (const address of [
      '169.254.169.254',
      'fd00:ec2::254',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      '255.255.255.255',
      '169.254.3.3',
    ]) {
      expect(development.check(address).allowed, address).toBe(false);
    }
  });
});
