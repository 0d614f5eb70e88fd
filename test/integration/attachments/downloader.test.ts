import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { createAddressPolicy } from '../../../src/attachments/address-policy.js';
import { createDownloader, type DownloaderOptions } from '../../../src/attachments/downloader.js';
import { createUrlVetter } from '../../../src/attachments/url-vetter.js';
import { policyTreatingAsPublic, scriptedResolver } from '../../helpers/attachment-seams.js';
import {
  type FileServer,
  redirectTo,
  serveBytes,
  startFileServer,
  startServerPairOnOnePort,
} from '../../helpers/file-server.js';
import { trackResource } from '../../helpers/leak-check.js';

const KIB = 1024;
const open: FileServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function serve(...args: Parameters<typeof startFileServer>) {
  const server = await startFileServer(...args);
  open.push(server);
  return server;
}

/**
 * A downloader for `files.crm.test` → 127.0.0.2 ("public" through the test seam), on `port`;
 * 127.0.0.1 stays internal and blocked.
 */
function downloaderFor(
  port: number,
  overrides: Partial<DownloaderOptions> = {},
  answers?: Record<string, string[][]>,
) {
  const resolver = scriptedResolver(
    answers ?? { 'files.crm.test': [['127.0.0.2']], 'internal.test': [['127.0.0.1']] },
  );
  const vetter = createUrlVetter({
    policy: {
      allowedHosts: ['files.crm.test', 'internal.test', 'localhost'],
      allowHttp: true,
      allowedPorts: [port],
    },
    addressPolicy: policyTreatingAsPublic(['127.0.0.2']),
    resolver,
  });
  const downloader = createDownloader({
    vetter,
    maxBytes: 256 * KIB,
    timeoutMs: 5_000,
    maxRedirects: 3,
    ...overrides,
  });
  return { downloader, resolver };
}

describe('downloader', () => {
  it('downloads a file through the vetted address and reports its content type', async () => {
    const body = Buffer.alloc(100 * KIB, 7);
    const server = await serve({ host: '127.0.0.2', routes: { '/f.bin': serveBytes(body, 'image/png') } });
    const { downloader } = downloaderFor(server.port);
    const result = await downloader.download(server.url('/f.bin', 'files.crm.test'));
    expect(result).toMatchObject({ ok: true, contentType: 'image/png', redirects: 0 });
    expect(result.ok && result.bytes.equals(body)).toBe(true);
  });

  describe('byte cap', () => {
    it('refuses a body whose Content-Length is over the cap without reading it', async () => {
      const server = await serve({
        host: '127.0.0.2',
        routes: { '/big': serveBytes(Buffer.alloc(300 * KIB)) },
      });
      const result = await downloaderFor(server.port).downloader.download(
        server.url('/big', 'files.crm.test'),
      );
      expect(result).toMatchObject({ ok: false, reasonCode: 'ATTACHMENT_TOO_LARGE' });
      expect(!result.ok && result.message).toMatch(/Content-Length says 307200/);
    });

    it('cuts off an endless stream with no Content-Length once it passes the cap', async () => {
      let serverSawClose: () => void = () => undefined;
      const closed = new Promise<void>((resolve) => (serverSawClose = resolve));
      let written = 0;
      const server = await serve({
        host: '127.0.0.2',
        routes: {
          '/endless': (_req, res) => {
            res.writeHead(200, { 'content-type': 'application/pdf' }); // chunked: the size is hidden
            const chunk = Buffer.alloc(16 * KIB, 1);
            const pump = () => {
              while (!res.destroyed) {
                written += chunk.length;
                if (!res.write(chunk)) {
                  res.once('drain', pump);
                  return;
                }
              }
            };
            res.on('close', serverSawClose);
            pump();
          },
        },
      });
      const result = await downloaderFor(server.port).downloader.download(
        server.url('/endless', 'files.crm.test'),
      );
      expect(result).toMatchObject({ ok: false, reasonCode: 'ATTACHMENT_TOO_LARGE' });
      expect(!result.ok && result.message).toMatch(/more than 262144 bytes arrived/);
      await closed; // the client hung up: the stream did not run on
      expect(written).toBeGreaterThan(256 * KIB);
    });

    it('never accepts more bytes than a lying Content-Length announced', async () => {
      // Raw socket: `Content-Length: 1024`, then 1 MiB. HTTP framing ends the body at 1,024 bytes,
      // so the extra bytes can never be counted as the file, let alone pass the cap.
      const sockets = new Set<Socket>();
      const raw: NetServer = createNetServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.once('data', () => {
          socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 1024\r\n\r\n');
          socket.end(Buffer.alloc(1024 * KIB, 0x41));
        });
      });
      await new Promise<void>((resolve) => raw.listen(0, '127.0.0.2', resolve));
      const closeRaw = () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          raw.close(() => resolve());
        });
      trackResource('raw lying server', () => raw.listening, closeRaw);
      try {
        const port = (raw.address() as { port: number }).port;
        const result = await downloaderFor(port).downloader.download(`http://files.crm.test:${port}/lie`);
        expect(result.ok && result.bytes.length).toBe(1024);
      } finally {
        await closeRaw();
      }
    });
  });

  it('gives up after the total time limit, even while bytes trickle in', async () => {
    const server = await serve({
      host: '127.0.0.2',
      routes: {
        '/slow': (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/pdf' });
          res.write('%PDF-'); // then nothing: the body never completes
        },
      },
    });
    const result = await downloaderFor(server.port, { timeoutMs: 300 }).downloader.download(
      server.url('/slow', 'files.crm.test'),
    );
    expect(result).toEqual({
      ok: false,
      reasonCode: 'ATTACHMENT_DOWNLOAD_FAILED',
      message: 'timed out after 300 ms',
    });
  });

  it('reports an HTTP error status as a download failure', async () => {
    const server = await serve({ host: '127.0.0.2' });
    const result = await downloaderFor(server.port).downloader.download(
      server.url('/missing', 'files.crm.test'),
    );
    expect(result).toEqual({ ok: false, reasonCode: 'ATTACHMENT_DOWNLOAD_FAILED', message: 'HTTP 404' });
  });

  it('rejects when the caller aborts, instead of reporting a problem', async () => {
    const server = await serve({
      host: '127.0.0.2',
      routes: { '/hang': (_req, res) => res.writeHead(200).flushHeaders() },
    });
    const controller = new AbortController();
    const pending = downloaderFor(server.port).downloader.download(
      server.url('/hang', 'files.crm.test'),
      controller.signal,
    );
    controller.abort(new Error('run cancelled'));
    await expect(pending).rejects.toThrow('run cancelled');
  });

  describe('redirects', () => {
    it('follows a relative redirect on an allowed host, re-vetting the hop', async () => {
      const server = await serve({
        host: '127.0.0.2',
        routes: { '/old': redirectTo('/new', 301), '/new': serveBytes(Buffer.from('%PDF-1.4 ok')) },
      });
      const { downloader, resolver } = downloaderFor(server.port);
      const result = await downloader.download(server.url('/old', 'files.crm.test'));
      expect(result).toMatchObject({ ok: true, redirects: 1 });
      expect(resolver.asked).toEqual(['files.crm.test', 'files.crm.test']);
    });

    it('blocks a redirect to an internal address before connecting to it', async () => {
      const { internal, external } = await startServerPairOnOnePort(
        { routes: { '/secret': serveBytes(Buffer.from('internal secret')) } },
        {
          routes: {
            '/to-literal': (_req, res) =>
              redirectTo(`http://127.0.0.1:${res.socket?.localPort ?? 0}/secret`)(_req, res),
            '/to-name': (req, res) =>
              redirectTo(`http://internal.test:${req.socket.localPort ?? 0}/secret`)(req, res),
            '/to-metadata': redirectTo('http://169.254.169.254/latest/meta-data/iam/'),
          },
        },
      );
      open.push(internal, external);
      const { downloader } = downloaderFor(external.port);
      for (const [path, detail] of [
        ['/to-literal', '127.0.0.1 is loopback'],
        ['/to-name', 'internal.test resolves to 127.0.0.1, which is loopback'],
        ['/to-metadata', 'port-not-allowed'],
      ] as const) {
        const result = await downloader.download(external.url(path, 'files.crm.test'));
        expect(result, path).toMatchObject({ ok: false, reasonCode: 'ATTACHMENT_SSRF_BLOCKED' });
        expect(!result.ok && result.message, path).toContain(detail);
      }
      expect(internal.connections()).toBe(0);
    });

    it('stops after ATTACHMENT_MAX_REDIRECTS hops', async () => {
      const server = await serve({
        host: '127.0.0.2',
        routes: {
          '/1': redirectTo('/2'),
          '/2': redirectTo('/3'),
          '/3': redirectTo('/4'),
          '/4': redirectTo('/5'),
        },
      });
      const result = await downloaderFor(server.port, { maxRedirects: 3 }).downloader.download(
        server.url('/1', 'files.crm.test'),
      );
      expect(result).toMatchObject({ ok: false, reasonCode: 'ATTACHMENT_DOWNLOAD_FAILED' });
      expect(!result.ok && result.message).toMatch(/too many redirects/);
      expect(server.paths()).toEqual(['/1', '/2', '/3', '/4']);
    });
  });

  describe('pinned connections', () => {
    it('connects to the vetted address even where the system resolver would answer otherwise', async () => {
      // /etc/hosts says localhost is 127.0.0.1 (the internal server). The vetter was told
      // 127.0.0.2; a connection that looked the name up again would land on the internal server.
      const { internal, external } = await startServerPairOnOnePort(
        { routes: { '/f': serveBytes(Buffer.from('INTERNAL')) } },
        { routes: { '/f': serveBytes(Buffer.from('EXTERNAL')) } },
      );
      open.push(internal, external);
      const { downloader } = downloaderFor(external.port, {}, { localhost: [['127.0.0.2']] });
      const result = await downloader.download(`http://localhost:${external.port}/f`);
      expect(result.ok && result.bytes.toString()).toBe('EXTERNAL');
      expect(internal.connections()).toBe(0);
    });

    it('cannot be rebound: a name that answers public, then private, still reaches only the public server', async () => {
      const { internal, external } = await startServerPairOnOnePort(
        { routes: { '/f': serveBytes(Buffer.from('INTERNAL')) } },
        { routes: { '/f': serveBytes(Buffer.from('EXTERNAL')), '/again': redirectTo('/f') } },
      );
      open.push(internal, external);
      const answers = { 'files.crm.test': [['127.0.0.2'], ['127.0.0.1']] };
      const first = downloaderFor(external.port, {}, answers);
      const result = await first.downloader.download(external.url('/f', 'files.crm.test'));
      expect(result.ok && result.bytes.toString()).toBe('EXTERNAL');

      // The next lookup (a redirect hop) gets the private answer: re-vetting blocks it.
      const again = downloaderFor(external.port, {}, answers);
      const redirected = await again.downloader.download(external.url('/again', 'files.crm.test'));
      expect(redirected).toMatchObject({ ok: false, reasonCode: 'ATTACHMENT_SSRF_BLOCKED' });
      expect(internal.connections()).toBe(0);
    });
  });
});

describe('downloader with the development switch', () => {
  it('reaches a server on 127.0.0.1 when private networks are allowed', async () => {
    const server = await startFileServer({ routes: { '/f': serveBytes(Buffer.from('dev')) } });
    try {
      const vetter = createUrlVetter({
        policy: { allowedHosts: ['127.0.0.1'], allowHttp: true, allowedPorts: [server.port] },
        addressPolicy: createAddressPolicy({ allowPrivateNetworks: true }),
        resolver: scriptedResolver({}),
      });
      const downloader = createDownloader({ vetter, maxBytes: 1024, timeoutMs: 5_000, maxRedirects: 0 });
      const result = await downloader.download(server.url('/f'));
      expect(result.ok && result.bytes.toString()).toBe('dev');
    } finally {
      await server.close();
    }
  });
});
