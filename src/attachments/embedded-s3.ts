/**
 * A real S3 API server in-process (s3rver) for tests and the embedded demo default, so the real
 * `@aws-sdk/client-s3` code path is exercised end to end. Not for production: use S3 or MinIO.
 * Why s3rver and what it needs from the client: docs/attachments.md "S3 server".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import S3rver from 's3rver';

/** s3rver accepts only this key pair (it checks request signatures against it). */
export const EMBEDDED_S3_ACCESS_KEY_ID = 'S3RVER';
export const EMBEDDED_S3_SECRET_ACCESS_KEY = 'S3RVER';

export interface EmbeddedS3Options {
  /** Where objects are kept; a fresh temporary directory (removed on stop) when unset. */
  directory?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The bucket created at start. Default `cdp-note-attachments`, as S3_BUCKET's default. */
  bucket?: string;
}

export interface EmbeddedS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The directory objects are stored in (one file per object, under `{bucket}/`). */
  directory: string;
  /** Closes every connection and the server; removes the directory if it was temporary. */
  stop(): Promise<void>;
}

export async function startEmbeddedS3(options: EmbeddedS3Options = {}): Promise<EmbeddedS3> {
  const bucket = options.bucket ?? 'cdp-note-attachments';
  const temporary = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'cnm-s3-')));
  const s3rver = new S3rver({
    directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  await s3rver.configureBuckets();

  // Our own http.Server around s3rver's handler: s3rver.run() never settles when the port is
  // taken (it waits for a listen callback that only fires on success).
  const server = createServer(s3rver.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      s3rver.logger.close();
      if (temporary) await rm(directory, { recursive: true, force: true });
    })();
    return stopping;
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: EMBEDDED_S3_ACCESS_KEY_ID,
    secretAccessKey: EMBEDDED_S3_SECRET_ACCESS_KEY,
    directory,
    stop,
  };
}
