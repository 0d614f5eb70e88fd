import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEmbeddedS3 } from '../../../src/attachments/embedded-s3.js';
import {
  createS3AttachmentStore,
  MULTIPART_PART_BYTES,
  type S3AttachmentStore,
} from '../../../src/attachments/s3-attachment-store.js';
import { startTestS3, type TestS3 } from '../../helpers/embedded-s3.js';

describe('S3 attachment store on the embedded S3 server', () => {
  let s3: TestS3;
  let store: S3AttachmentStore;
  beforeAll(async () => {
    s3 = await startTestS3();
    store = createS3AttachmentStore(s3.config);
  });
  afterAll(async () => {
    store.close();
    await s3.stop();
  });

  it('stores a small file byte for byte with its content type', async () => {
    const body = randomBytes(1000);
    await store.put('c1/n1/small-abc.png', body, 'image/png', body.length);
    const got = await s3.get('c1/n1/small-abc.png');
    expect(got.body.equals(body)).toBe(true);
    expect(got.contentType).toBe('image/png');
  });

  it('stores a file larger than one part through a multipart upload, intact', async () => {
    const body = randomBytes(2 * MULTIPART_PART_BYTES + 12_345);
    await store.put('c1/n1/big-abc.pdf', body, 'application/pdf', body.length);
    const got = await s3.get('c1/n1/big-abc.pdf');
    expect(got.body.length).toBe(body.length);
    expect(got.body.equals(body)).toBe(true);
    expect(got.contentType).toBe('application/pdf');
  });

  it('overwrites the same key on a second put instead of adding an object', async () => {
    const before = await s3.keys();
    await store.put('c1/n1/small-abc.png', Buffer.from('second'), 'text/plain; charset=utf-8', 6);
    expect(await s3.keys()).toEqual(before);
    expect((await s3.get('c1/n1/small-abc.png')).body.toString()).toBe('second');
  });

  it('refuses a body whose size is not the size it was told', async () => {
    await expect(store.put('c1/n1/x', Buffer.from('abc'), 'text/plain', 4)).rejects.toThrow(
      /body is 3 bytes, expected 4/,
    );
  });

  it('fails loudly when the bucket does not exist', async () => {
    const wrong = createS3AttachmentStore({ ...s3.config, bucket: 'no-such-bucket' });
    try {
      await expect(wrong.put('k', Buffer.from('x'), 'text/plain', 1)).rejects.toThrow();
    } finally {
      wrong.close();
    }
  });
});

describe('embedded S3 server', () => {
  it('rejects, instead of hanging, when its port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startEmbeddedS3({ port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

describe('why the S3 client asks for checksums only WHEN_REQUIRED', () => {
  it('with SDK defaults a streamed body reaches s3rver in aws-chunked framing and is stored corrupted', async () => {
    // Characterises s3rver 3.7.1 + @aws-sdk/client-s3 3.1175 (docs/attachments.md "S3 server"):
    // if this starts passing byte-for-byte, the WHEN_REQUIRED setting may be revisited.
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { Readable } = await import('node:stream');
    const s3 = await startTestS3();
    const defaults = new S3Client({
      endpoint: s3.config.endpoint,
      region: s3.config.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.server.accessKeyId, secretAccessKey: s3.server.secretAccessKey },
    });
    try {
      const body = randomBytes(1000);
      await defaults.send(
        new PutObjectCommand({
          Bucket: s3.config.bucket,
          Key: 'k',
          Body: Readable.from([body]),
          ContentLength: 1000,
        }),
      );
      const stored = (await s3.get('k')).body;
      expect(stored.equals(body)).toBe(false);
      expect(stored.length).toBeGreaterThan(1000);
    } finally {
      defaults.destroy();
      await s3.stop();
    }
  });
});
