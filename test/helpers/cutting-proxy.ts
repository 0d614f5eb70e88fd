/**
 * A TCP proxy in front of a test server that can cut every open connection at once — a network
 * blip, as a client sees it — and remembers the head of every request that went through it.
 */
import { connect, createServer, type Socket } from 'node:net';

import { trackResource } from './leak-check.js';

export interface CuttingProxy {
  url: string;
  /** The request heads seen (request line and headers, lower-cased header names kept as sent). */
  readonly requests: string[];
  /** Destroys every open connection, both sides. */
  cutAll(): void;
  /** Cuts every connection and refuses new ones (destroyed on arrival) until `resume()`. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(
  targetUrl: string,
  scope: 'test' | 'file' = 'test',
): Promise<CuttingProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  const requests: string[] = [];
  let paused = false;
  const server = createServer((client) => {
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    open.add(client);
    open.add(upstream);
    let head = '';
    client.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) requests.push(head.slice(0, end));
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  let listening = true;
  const cutAll = () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };
  const close = async () => {
    if (!listening) return;
    listening = false;
    cutAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  trackResource(`cutting proxy :${address.port}`, () => listening, close, scope);
  const pause = () => {
    paused = true;
    cutAll();
  };
  const resume = () => {
    paused = false;
  };
  return { url: `http://127.0.0.1:${address.port}`, requests, cutAll, pause, resume, close };
}
