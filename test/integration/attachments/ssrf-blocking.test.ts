import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAttachmentProcessor } from '../../../src/attachments/attachment-processor.js';
import type { AttachmentStore } from '../../../src/attachments/s3-attachment-store.js';
import { createSilentLogger } from '../../../src/logger.js';
import { makeAttachmentInput, makeAttachmentsConfig } from '../../fixtures/attachment-builders.js';
import { PDF_BYTES } from '../../fixtures/attachment-bytes.js';
import { scriptedResolver } from '../../helpers/attachment-seams.js';
import { type FileServer, serveBytes, startFileServer } from '../../helpers/file-server.js';

/*
 * Real production address policy here (no seam): every URL below points at servers listening on
 * 127.0.0.1 and [::1], and must be refused before a socket is opened. The servers count the
 * connections they accept; the store records every upload.
 */
describe('SSRF guard in the attachment processor', () => {
  let v4: FileServer;
  let v6: FileServer | null;
  const uploads: string[] = [];
  const store: AttachmentStore = {
    put: (key) => {
      uploads.push(key);
      return Promise.resolve();
    },
  };

  beforeAll(async () => {
    const routes = { '/f.pdf': serveBytes(PDF_BYTES, 'application/pdf') };
    v4 = await startFileServer({ host: '127.0.0.1', routes, scope: 'file' });
    // Same port on IPv6 loopback, when the machine has it: a `[::1]` URL would land there.
    v6 = await startFileServer({ host: '::1', port: v4.port, routes, scope: 'file' }).catch((e: Error) => {
      process.stdout.write(
        `ssrf-blocking: no server on [::1] (${e.message}); IPv6 connections not counted\n`,
      );
      return null;
    });
  });
  afterAll(async () => {
    await Promise.all([v4.close(), v6?.close()]);
  });

  const cases = (port: number): [string, string][] => [
    // IP literals, even though the allow-list names them: the address policy refuses them first.
    [`http://127.0.0.1:${port}/f.pdf`, 'non-public-address'],
    [`http://127.0.0.2:${port}/f.pdf`, 'non-public-address'], // not listed, still judged as an address first
    [`http://[::1]:${port}/f.pdf`, 'non-public-address'],
    [`http://[::ffff:127.0.0.1]:${port}/f.pdf`, 'non-public-address'],
    [`http://[::127.0.0.1]:${port}/f.pdf`, 'non-public-address'],
    [`http://2130706433:${port}/f.pdf`, 'non-public-address'], // decimal
    [`http://0177.0.0.1:${port}/f.pdf`, 'non-public-address'], // octal
    [`http://0x7f.1:${port}/f.pdf`, 'non-public-address'], // hex
    [`http://0x7f000001:${port}/f.pdf`, 'non-public-address'],
    [`http://169.254.169.254:${port}/latest/meta-data/`, 'non-public-address'],
    [`http://10.0.0.1:${port}/f.pdf`, 'non-public-address'],
    [`http://0.0.0.0:${port}/f.pdf`, 'non-public-address'],
    // Names that only look allowed.
    [`http://allowed-host.evil.com:${port}/f.pdf`, 'host-not-allowed'],
    [`http://evil.com:${port}#@allowed-host`, 'host-not-allowed'],
    [`http://evil.com:${port}\\@allowed-host/f.pdf`, 'non-canonical-url'],
    [`http://allowed-host@evil.com:${port}/f.pdf`, 'credentials-in-url'],
    [`http://user:pass@allowed-host:${port}/f.pdf`, 'credentials-in-url'],
    [`http://allowed-host%2Eevil.com:${port}/f.pdf`, 'non-canonical-url'],
    // Not canonical: another parser could read another host (#11).
    [`http://allowed-host:${port}/f.pdf\r\nHost: evil.com`, 'non-canonical-url'],
    [`http://allowed-host.:${port}/f.pdf`, 'non-canonical-url'],
    [`http://ａｌｌｏｗｅｄ-host:${port}/f.pdf`, 'non-canonical-url'],
    [`http:allowed-host:${port}/f.pdf`, 'non-canonical-url'],
    [`http:\\\\allowed-host:${port}/f.pdf`, 'non-canonical-url'],
    [`ftp://allowed-host:${port}/f.pdf`, 'scheme-not-allowed'],
    [`http://allowed-host:${port + 1}/f.pdf`, 'port-not-allowed'],
    // Allowed names whose DNS answers are not (all) public.
    [`http://allowed-host:${port}/f.pdf`, 'non-public-address'],
    [`http://mixed-host:${port}/f.pdf`, 'non-public-address'],
    [`http://v6-host:${port}/f.pdf`, 'non-public-address'],
  ];

  it('blocks every trick before any connection is opened, and uploads nothing', async () => {
    const resolver = scriptedResolver({
      'allowed-host': [['127.0.0.1']],
      'mixed-host': [['93.184.216.34', '127.0.0.1']],
      'v6-host': [['2606:4700::1', '::1']],
      'evil.com': [['127.0.0.1']],
      'allowed-host.evil.com': [['127.0.0.1']],
    });
    const processor = createAttachmentProcessor({
      config: makeAttachmentsConfig({
        allowedHosts: [
          'allowed-host',
          'mixed-host',
          'v6-host',
          '127.0.0.1',
          '::1',
          '::ffff:127.0.0.1',
          '169.254.169.254',
          '10.0.0.1',
          '0.0.0.0',
        ],
        allowedPorts: [v4.port],
        allowHttp: true,
      }),
      store,
      logger: createSilentLogger(),
      resolver,
    });
    const table = cases(v4.port);
    const result = await processor.process(
      'company-1',
      '1',
      table.map(([url]) => makeAttachmentInput({ url, fileName: 'f.pdf' })),
    );

    expect(result.attachments).toEqual([]);
    expect(result.problems).toHaveLength(table.length);
    result.problems.forEach((problem, i) => {
      const [url, reason] = table[i]!;
      expect(problem.reasonCode, url).toBe('ATTACHMENT_SSRF_BLOCKED');
      expect(problem.message, url).toContain(`: ${reason} (`);
    });
    expect(v4.connections()).toBe(0);
    expect(v6?.connections() ?? 0).toBe(0);
    expect(uploads).toEqual([]);
    // Names refused by the pure checks never even reached DNS.
    expect(new Set(resolver.asked)).toEqual(new Set(['allowed-host', 'mixed-host', 'v6-host']));
  });

  it('lets the same local server through only with the development switch, proving it was reachable', async () => {
    const processor = createAttachmentProcessor({
      config: makeAttachmentsConfig({
        allowedHosts: ['127.0.0.1'],
        allowedPorts: [v4.port],
        allowPrivateNetworks: true,
      }),
      store,
      logger: createSilentLogger(),
      resolver: scriptedResolver({}),
    });
    const result = await processor.process('company-1', '2', [
      makeAttachmentInput({ url: v4.url('/f.pdf') }),
    ]);
    expect(result.problems).toEqual([]);
    expect(result.attachments).toHaveLength(1);
    expect(v4.connections()).toBe(1);
  });
});
