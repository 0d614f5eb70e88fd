/**
 * Local HTTP servers that stand in for CRM file storage (and for internal hosts an attacker would
 * aim at). Each counts the TCP connections it accepted, so a test can prove that a blocked URL
 * never reached it, and registers with the leak check.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { trackResource } from './leak-check.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FileServer {
  host: string;
  port: number;
  /** `http://{host}:{port}{path}` (IPv6 hosts bracketed). */
  url(path: string, host?: string): string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Request paths seen so far. */
  paths(): string[];
  close(): Promise<void>;
}

export interface FileServerOptions {
  host?: string;
  port?: number;
  /** Route table (`path → handler`); unknown paths answer 404. */
  routes?: Record<string, Handler>;
  label?: string;
  /** Leak-check scope: `file` for servers a `beforeAll` starts. Default `test`. */
  scope?: 'test' | 'file';
}

export async function startFileServer(options: FileServerOptions = {}): Promise<FileServer> {
  const host = options.host ?? '127.0.0.1';
  const routes = options.routes ?? {};
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push(path);
    const handler = routes[path];
    if (handler) handler(req, res);
    else res.writeHead(404).end('not found');
  });
  server.on('connection', (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }));
  trackResource(options.label ?? `file server ${host}:${port}`, () => server.listening, close, options.scope);
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  return {
    host,
    port,
    url: (path, urlHost = host) => `http://${bracket(urlHost)}:${port}${path}`,
    connections: () => accepted,
    paths: () => [...seen],
    close,
  };
}

/** Serves `body` with a Content-Length. */
export function serveBytes(body: Buffer, contentType = 'application/octet-stream'): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    res.end(body);
  };
}

export function redirectTo(location: string, status = 302): Handler {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

/**
 * Two servers on one port, one on 127.0.0.1 and one on 127.0.0.2 (both loopback on Linux): a
 * connection that goes to the wrong address lands on the other server instead of failing, so a
 * test can tell exactly where a request went.
 */
export async function startServerPairOnOnePort(
  internal: FileServerOptions,
  external: FileServerOptions,
): Promise<{ internal: FileServer; external: FileServer }> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const inner = await startFileServer({
      ...internal,
      host: '127.0.0.1',
      label: 'internal server 127.0.0.1',
    });
    try {
      const outer = await startFileServer({
        ...external,
        host: '127.0.0.2',
        port: inner.port,
        label: 'external server 127.0.0.2',
      });
      return { internal: inner, external: outer };
    } catch {
      await inner.close(); // the port is taken on 127.0.0.2: try another
    }
  }
  throw new Error('could not bind 127.0.0.1 and 127.0.0.2 to one port in 5 attempts');
}
