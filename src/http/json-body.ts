/**
 * Reads a JSON request body with a size limit: 415 unless `application/json` (UTF-8), 413 past
 * `maxBodyBytes` (by Content-Length before reading, or while reading a chunked body), 400 for
 * bytes that are not UTF-8 or not JSON. Returns `unknown`: the route's zod schema decides the rest.
 */
import type { Context } from 'koa';

import { AppError, toError, ValidationError } from '../errors.js';

export interface JsonBodyOptions {
  /** Largest accepted body, in bytes (MAX_BODY_BYTES). */
  maxBodyBytes: number;
}

export async function readJsonBody(ctx: Context, options: JsonBodyOptions): Promise<unknown> {
  assertJsonContentType(ctx);
  const declared = ctx.request.length;
  if (declared !== undefined && declared > options.maxBodyBytes) throw tooLarge(ctx, options.maxBodyBytes);
  const raw = await readLimited(ctx, options.maxBodyBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new ValidationError('Request body is not valid UTF-8', { issues: [] });
  }
  if (text.trim() === '') throw new ValidationError('Request body is empty; expected a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ValidationError(`Request body is not valid JSON: ${toError(e).message}`);
  }
}

function assertJsonContentType(ctx: Context): void {
  const type = ctx.get('content-type');
  const charset = /;\s*charset=("?)([^";\s]+)\1/i.exec(type)?.[2]?.toLowerCase();
  const isJson = ctx.request.is('application/json') === 'application/json';
  if (!isJson || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Request body must be application/json (UTF-8), got ${type ? JSON.stringify(type.slice(0, 100)) : 'no Content-Type'}`,
      { details: { content_type: type.slice(0, 100) || null } },
    );
  }
}

function tooLarge(ctx: Context, maxBodyBytes: number): AppError {
  // The rest of an oversized body is not read: close the connection after answering.
  ctx.set('Connection', 'close');
  return new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${maxBodyBytes} bytes`, {
    details: { max_body_bytes: maxBodyBytes },
  });
}

function readLimited(ctx: Context, maxBodyBytes: number): Promise<Buffer> {
  const req = ctx.req;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        cleanup();
        // Discard whatever else arrives without buffering it; the answer goes out now.
        req.resume();
        reject(tooLarge(ctx, maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onAborted = () => {
      cleanup();
      reject(new ValidationError('Request body was cut off by the client'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
