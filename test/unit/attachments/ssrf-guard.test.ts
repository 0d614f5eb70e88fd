import { describe, expect, it } from 'vitest';

import { createAddressPolicy } from '../../../src/attachments/address-policy.js';
import {
  checkUrl,
  compileAllowList,
  isHostAllowed,
  normalizeHost,
  type UrlPolicy,
} from '../../../src/attachments/ssrf-guard.js';

const policy: UrlPolicy = {
  allowedHosts: ['allowed-host', 'files.crm.example', '*.cdn.example.com', 'xn--bcher-kva.example'],
  allowHttp: false,
  allowedPorts: [443, 80],
};
const addressPolicy = createAddressPolicy({ allowPrivateNetworks: false });
const check = (url: string, p: UrlPolicy = policy) =>
  checkUrl(url, p, compileAllowList(p.allowedHosts), addressPolicy);

describe('ssrf guard (pure URL checks)', () => {
  it.each([
    ['https://files.crm.example/a.pdf', 'files.crm.example'],
    ['https://FILES.crm.EXAMPLE/a.pdf', 'files.crm.example'],
    ['HTTPS://files.crm.example/a.pdf', 'files.crm.example'],
    ['https://files.crm.example', 'files.crm.example'],
    ['https://files.crm.example/a%20b.pdf?X-Amz-Signature=ab%2Fcd#page=2', 'files.crm.example'],
    ['https://files.crm.example/Überweisung.pdf', 'files.crm.example'],
    ['https://img.cdn.example.com/x.png', 'img.cdn.example.com'],
    ['https://a.b.cdn.example.com/x.png', 'a.b.cdn.example.com'],
    ['https://bücher.example/x', 'xn--bcher-kva.example'],
    ['https://BÜCHER.example/x', 'xn--bcher-kva.example'],
    ['https://xn--bcher-kva.example/x', 'xn--bcher-kva.example'],
  ])('allows %s (host %s)', (url, host) => {
    const result = check(url);
    expect(result.ok && result.target.host).toBe(host);
  });

  it.each([
    ['http://files.crm.example/a.pdf', 'scheme-not-allowed'],
    ['ftp://files.crm.example/a.pdf', 'scheme-not-allowed'],
    ['file:///etc/passwd', 'scheme-not-allowed'],
    ['gopher://files.crm.example/', 'scheme-not-allowed'],
    ['data:text/plain,hi', 'scheme-not-allowed'],
    ['not a url', 'invalid-url'],
    ['https://user:pw@files.crm.example/a.pdf', 'credentials-in-url'],
    ['https://allowed-host@evil.com/a.pdf', 'credentials-in-url'],
    ['https://files.crm.example:@evil.com/', 'credentials-in-url'],
    ['https://evil.com#@allowed-host', 'host-not-allowed'],
    ['https://evil.com?@allowed-host', 'host-not-allowed'],
    ['https://evil.com\\@allowed-host/', 'non-canonical-url'],
    ['https://allowed-host.evil.com/', 'host-not-allowed'],
    ['https://evilallowed-host/', 'host-not-allowed'],
    ['https://cdn.example.com/x', 'host-not-allowed'], // a wildcard never matches its apex
    ['https://xcdn.example.com/x', 'host-not-allowed'],
    ['https://files.crm.example:8443/a.pdf', 'port-not-allowed'],
    ['https://files.crm.example:0/a.pdf', 'port-not-allowed'],
  ])('blocks %s as %s', (url, reason) => {
    expect(check(url)).toMatchObject({ ok: false, reason });
  });

  describe('IP-literal hosts', () => {
    // Even an allow-list that names these literals cannot open them: the address policy runs first.
    const listed: UrlPolicy = {
      allowedHosts: ['127.0.0.1', '169.254.169.254', '10.0.0.5', '::1', '::ffff:127.0.0.1', '0.0.0.0'],
      allowHttp: true,
      allowedPorts: [80, 443],
    };
    it.each([
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is cloud-metadata'],
      ['http://10.0.0.5/', '10.0.0.5 is private'],
      ['http://127.0.0.1/', '127.0.0.1 is loopback'],
      ['http://127.8.9.10/', '127.8.9.10 is loopback'],
      ['http://[::1]/', '::1 is loopback'],
      ['http://[::ffff:127.0.0.1]/', '127.0.0.1 is loopback'],
      ['http://[::ffff:a9fe:a9fe]/', '169.254.169.254 is cloud-metadata'],
      ['http://2130706433/', '127.0.0.1 is loopback'], // decimal
      ['http://0177.0.0.1/', '127.0.0.1 is loopback'], // octal
      ['http://0x7f.1/', '127.0.0.1 is loopback'], // hex, short form
      ['http://0x7f000001/', '127.0.0.1 is loopback'],
      ['http://127.1/', '127.0.0.1 is loopback'],
      ['http://0/', '0.0.0.0 is unspecified'],
      ['http://[fd00:ec2::254]/', 'fd00:ec2::254 is cloud-metadata'],
    ])('blocks %s (%s)', (url, detail) => {
      expect(check(url, listed)).toEqual({ ok: false, reason: 'non-public-address', detail });
    });

    it('allows a loopback literal by exact name only when the development switch is on', () => {
      const dev = createAddressPolicy({ allowPrivateNetworks: true });
      const p: UrlPolicy = { allowedHosts: ['127.0.0.1'], allowHttp: true, allowedPorts: [8080] };
      const list = compileAllowList(p.allowedHosts);
      expect(checkUrl('http://127.0.0.1:8080/f.png', p, list, dev).ok).toBe(true);
      // The same address, but written in a form other parsers may read differently.
      expect(checkUrl('http://2130706433:8080/f.png', p, list, dev)).toMatchObject({
        reason: 'non-canonical-url',
      });
      expect(checkUrl('http://127.0.0.2:8080/f.png', p, list, dev)).toMatchObject({
        reason: 'host-not-allowed',
      });
      expect(checkUrl('http://localhost:8080/f.png', p, list, dev)).toMatchObject({
        reason: 'host-not-allowed',
      });
      expect(checkUrl('http://127.0.0.1:8080/f.png', p, list, addressPolicy)).toMatchObject({
        reason: 'non-public-address',
      });
    });

    it('blocks a public IP literal that is not on the allow-list', () => {
      expect(check('https://93.184.216.34/x')).toMatchObject({ reason: 'host-not-allowed' });
    });
  });

  describe('non-canonical URLs (#11): what two parsers could read differently is never fetched', () => {
    it.each([
      ['https://files.crm.example/a.pdf\r\nHost: evil.com', 'control character U+000d in the URL'],
      ['https://files.crm.example/a\n.pdf', 'control character U+000a in the URL'],
      ['https://files.crm.example/a.pdf\n', 'control character U+000a in the URL'],
      ['https://files.crm\t.example/a.pdf', 'control character U+0009 in the URL'],
      ['https://files.crm.example/a\u0000.pdf', 'control character U+0000 in the URL'],
      ['https://files.crm.example/a\u0085.pdf', 'control character U+0085 in the URL'],
      ['https://files.crm.example\\a.pdf', 'a backslash in the URL'],
      ['https://files.crm.example/a\\b.pdf', 'a backslash in the URL'],
      ['https:\\\\files.crm.example/a.pdf', 'a backslash in the URL'],
      ['https:files.crm.example/a.pdf', 'the scheme is not followed by exactly "//" and a host'],
      ['https:/files.crm.example/a.pdf', 'the scheme is not followed by exactly "//" and a host'],
      ['https:///files.crm.example/a.pdf', 'the scheme is not followed by exactly "//" and a host'],
      ['https://@files.crm.example/a.pdf', 'an "@" before the host'],
      ['https://%66iles.crm.example/x', 'percent-encoded host "%66iles.crm.example"'],
      ['https://files%2ecrm.example/x', 'percent-encoded host "files%2ecrm.example"'],
      ['https://ｆｉｌｅｓ.crm.example/x', 'host "ｆｉｌｅｓ.crm.example" reads as files.crm.example'],
      ['https://files。crm.example/x', 'host "files。crm.example" reads as files.crm.example'],
      ['https://files.crm.example./a.pdf', 'trailing dot in host "files.crm.example."'],
      ['https://FILES.crm.EXAMPLE./a.pdf', 'trailing dot in host "FILES.crm.EXAMPLE."'],
      ['https://files.crm.example:443/a.pdf', 'explicit default port 443'],
      ['https://files.crm.example:0443/a.pdf', 'explicit default port 0443'],
      ['https://files.crm.example:/a.pdf', 'port written as ""'],
      ['https://bu\u0308cher.example/x', 'host "bu\u0308cher.example" reads as xn--bcher-kva.example'],
    ])('refuses %j: %s', (url, detail) => {
      expect(check(url)).toEqual({ ok: false, reason: 'non-canonical-url', detail });
    });

    it('refuses IPv4 shorthand and long IPv6 spellings of an allowed public address', () => {
      const p: UrlPolicy = {
        allowedHosts: ['93.184.216.34', '2606:4700::1'],
        allowHttp: true,
        allowedPorts: [80, 443, 8080],
      };
      const list = compileAllowList(p.allowedHosts);
      const run = (url: string) => checkUrl(url, p, list, addressPolicy);
      expect(run('https://93.184.216.34/x').ok).toBe(true);
      expect(run('https://[2606:4700::1]/x').ok).toBe(true);
      expect(run('http://[2606:4700::1]:8080/x').ok).toBe(true);
      for (const url of [
        'https://1572395042/x',
        'https://0x5d.0xb8.0xd8.0x22/x',
        'https://93.184.55330/x',
        'https://[2606:4700:0::0001]/x',
      ]) {
        expect(run(url), url).toMatchObject({ ok: false, reason: 'non-canonical-url' });
      }
      expect(run('http://93.184.216.34:80/x')).toMatchObject({ ok: false, reason: 'non-canonical-url' });
    });
  });

  it('allows http only when configured, and then only on an allowed port', () => {
    const http: UrlPolicy = { ...policy, allowHttp: true, allowedPorts: [443, 80, 8080] };
    expect(check('http://files.crm.example/a.pdf', http).ok).toBe(true);
    expect(check('http://files.crm.example:8080/a.pdf', http).ok).toBe(true);
    expect(check('http://files.crm.example:8081/a.pdf', http)).toMatchObject({ reason: 'port-not-allowed' });
  });

  it('normalises allow-list entries like hosts: case, trailing dot, IDNA, IPv6 brackets and IPv4 shorthand', () => {
    const list = compileAllowList([
      'Files.CRM.example.',
      '*.Bücher.example',
      '[::1]',
      '2130706433',
      'bad host!',
      '*.10.0.0.1',
    ]);
    expect([...list.exact]).toEqual(['files.crm.example', '::1', '127.0.0.1']);
    expect(list.suffixes).toEqual(['.xn--bcher-kva.example']);
    expect(list.invalid).toEqual(['bad host!', '*.10.0.0.1']);
    expect(isHostAllowed('a.xn--bcher-kva.example', list)).toBe(true);
    expect(normalizeHost('EXAMPLE.com.')).toBe('example.com');
    expect(normalizeHost('a/b')).toBeNull();
  });

  it('allows nothing when the allow-list is empty', () => {
    expect(check('https://files.crm.example/a.pdf', { ...policy, allowedHosts: [] })).toMatchObject({
      reason: 'host-not-allowed',
    });
  });
});
