/**
 * Where re-hosted attachments are written: any S3-compatible store through `@aws-sdk/client-s3`,
 * multipart (`@aws-sdk/lib-storage`) above one part size. A put to an existing key overwrites it,
 * which is what makes re-runs idempotent (asset keys are deterministic).
 */
import { DeleteObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

import type { Config } from '../config.js';

export interface AttachmentStore {
  /** Writes `body` under `key`, replacing any object already there. Throws on failure. */
  put(
    key: string,
    body: Uint8Array,
    contentType: string,
    sizeBytes: number,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** Removing objects (a rollback, #14). Deleting a key that does not exist succeeds, as in S3. */
export interface AttachmentObjectRemover {
  /** Deletes every key; throws when the store refused any of them (nothing is retried here). */
  deleteObjects(keys: readonly string[], signal?: AbortSignal): Promise<void>;
}

export interface S3AttachmentStore extends AttachmentStore, AttachmentObjectRemover {
  /** Releases the client's sockets. */
  close(): void;
}

/** S3's limit of keys per DeleteObjects request. */
const DELETE_BATCH_KEYS = 1_000;

/** S3's smallest part; files up to one part go up as a single PutObject. */
export const MULTIPART_PART_BYTES = 5 * 1024 * 1024;
/** Parts in flight per file. Memory per upload is bounded by the file itself (it is in memory already). */
const MULTIPART_QUEUE_SIZE = 4;

/**
 * `requestChecksumCalculation` / `responseChecksumValidation: 'WHEN_REQUIRED'`: since early 2025
 * the SDK adds CRC32 checksums to every upload and sends streamed bodies with `aws-chunked`
 * encoding. S3-compatible stores that predate this (s3rver; older MinIO, Ceph) store the chunk
 * framing as object bytes. WHEN_REQUIRED restores the long-standing behaviour (checksums only
 * where S3 demands them); S3 itself still verifies every upload with Content-MD5/SigV4 payload
 * hashing, so nothing is lost against real S3. See docs/attachments.md.
 */
export function createS3Client(config: Config['s3']): S3Client {
  const credentials =
    config.accessKeyId && config.secretAccessKey
      ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
      : undefined; // the SDK's default chain: env, profile, instance or task role
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

export function createS3AttachmentStore(
  config: Config['s3'],
  client = createS3Client(config),
): S3AttachmentStore {
  return {
    async put(key, body, contentType, sizeBytes, signal) {
      if (body.byteLength !== sizeBytes) {
        throw new Error(`refusing to upload ${key}: body is ${body.byteLength} bytes, expected ${sizeBytes}`);
      }
      const upload = new Upload({
        client,
        params: {
          Bucket: config.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
        },
        partSize: MULTIPART_PART_BYTES,
        queueSize: MULTIPART_QUEUE_SIZE,
        // An interrupted multipart upload is aborted, so no orphan parts are billed.
        leavePartsOnError: false,
      });
      const onAbort = () => void upload.abort().catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await upload.done();
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async deleteObjects(keys, signal) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH_KEYS) {
        const batch = keys.slice(i, i + DELETE_BATCH_KEYS);
        const result = await client.send(
          new DeleteObjectsCommand({
            Bucket: config.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
          signal ? { abortSignal: signal } : {},
        );
        const refused = result.Errors ?? [];
        if (refused.length > 0) {
          const first = refused[0];
          throw new Error(
            `S3 refused to delete ${refused.length} of ${batch.length} objects (first: ${first?.Key ?? '?'}: ${first?.Code ?? '?'} ${first?.Message ?? ''})`,
          );
        }
      }
    },
    close() {
      client.destroy();
    },
  };
}
