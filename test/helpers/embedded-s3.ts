/**
 * An in-process S3 (s3rver) per test file, registered with the leak check, plus a raw SDK client
 * to look at what landed in the bucket.
 */
import { GetObjectCommand, ListObjectsCommand, type S3Client } from '@aws-sdk/client-s3';

import { type EmbeddedS3, startEmbeddedS3 } from '../../src/attachments/embedded-s3.js';
import { createS3Client } from '../../src/attachments/s3-attachment-store.js';
import type { Config } from '../../src/config.js';
import { trackResource } from './leak-check.js';

export interface TestS3 {
  server: EmbeddedS3;
  config: Config['s3'];
  client: S3Client;
  /** Every key in the bucket, sorted. */
  keys(): Promise<string[]>;
  get(key: string): Promise<{ body: Buffer; contentType: string | undefined }>;
  stop(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const server = await startEmbeddedS3();
  const config: Config['s3'] = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: server.bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
  };
  const client = createS3Client(config);
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    client.destroy();
    await server.stop();
  };
  trackResource('embedded S3 (s3rver)', () => running, stop, 'file');
  return {
    server,
    config,
    client,
    async keys() {
      // ListObjects (v1) with Marker: s3rver 3.7 makes V2 continuation tokens with a cipher
      // OpenSSL 3 refuses (ERR_OSSL_EVP_UNSUPPORTED → InternalError past 1,000 keys).
      const out: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await client.send(new ListObjectsCommand({ Bucket: config.bucket, Marker: after }));
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
        out.push(...keys);
        if (!page.IsTruncated || keys.length === 0) break;
        after = keys.at(-1);
      }
      return out.sort();
    },
    async get(key) {
      const res = await client.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
      const bytes = await res.Body?.transformToByteArray();
      return { body: Buffer.from(bytes ?? []), contentType: res.ContentType };
    },
    stop,
  };
}
