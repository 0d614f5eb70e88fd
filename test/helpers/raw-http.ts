/**
 * HTTP/1.1 over a bare TCP socket, for requests an ordinary client would "fix" first: the
 * request target is written byte for byte (`/private//x`, `/a/../b`, `%2F`, raw UTF-8), so the
 * server sees exactly what an attacker sends. One request per connection (`Connection: close`).
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read response bodies loosely
  json: any;
}

export interface RawRequestOptions {
  headers?: Record<string, string>;
  body?: string;
}

export function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  options: RawRequestOptions = {},
): Promise<RawResponse> {
  const { hostname, port, host } = new URL(baseUrl);
  const headers: Record<string, string> = { host, connection: 'close', ...options.headers };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  const head = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (streamed: boolean) => {
      if (settled) return;
      const response = tryParseResponse(Buffer.concat(chunks), streamed);
      if (!response) return;
      settled = true;
      socket.destroy();
      resolve(response);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // An event stream never ends by itself: its status and headers are the answer.
      finish(true);
    });
    socket.on('end', () => {
      finish(false);
      if (!settled) reject(new Error(`connection closed before a complete response to ${method} ${target}`));
    });
    socket.on('error', (e) => {
      if (!settled) reject(e);
    });
    socket.write(`${head.join('\r\n')}\r\n\r\n${options.body ?? ''}`, 'utf8');
  });
}

/** A response once its headers are in and (unless it is an event stream) the connection ended. */
function tryParseResponse(bytes: Buffer, streaming: boolean): RawResponse | null {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const isEventStream = (headers['content-type'] ?? '').startsWith('text/event-stream');
  if (streaming && !isEventStream) return null;
  let body = bytes.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked' && !isEventStream) body = dechunk(body);
  const text = isEventStream ? '' : body.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text, json };
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
