/**
 * A real `node:http` server around the Koa app. `close()` stops accepting, ends every open SSE
 * stream (the app's `shutdown` event), closes idle keep-alive sockets at once and, after
 * `shutdownGraceMs`, any connection still busy — so a shutdown takes milliseconds, not the
 * keep-alive timeout.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type Koa from 'koa';

import { SHUTDOWN_EVENT } from './status-stream.js';

export interface HttpServerOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** How long in-flight requests may finish after `close()` before their sockets are cut. Default 5,000 ms. */
  shutdownGraceMs?: number;
  /** Longest time to receive a whole request (slow-body protection). Default 30,000 ms. */
  requestTimeoutMs?: number;
}

export interface HttpServerHandle {
  url: string;
  port: number;
  server: Server;
  readonly closed: boolean;
  close(): Promise<void>;
}

export async function startHttpServer(app: Koa, options: HttpServerOptions): Promise<HttpServerHandle> {
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.headersTimeout = Math.min(server.requestTimeout, 20_000);
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('HTTP server has no TCP address');
  const { port } = address;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  let closed = false;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    get closed() {
      return closed;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((e) => {
          clearInterval(idleSweep);
          clearTimeout(hardStop);
          closed = true;
          if (e) reject(e);
          else resolve();
        });
        app.emit(SHUTDOWN_EVENT);
        server.closeIdleConnections();
        // Sockets that finish their response after this point become idle: sweep them too.
        const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
        const hardStop = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 5_000);
      });
      return closing;
    },
  };
}
