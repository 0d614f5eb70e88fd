/**
 * A store that keeps nothing: the attachment processor run on it vets, downloads and type-checks
 * exactly as for a migration and returns the same attachment documents (keys are deterministic,
 * sizes are the bytes that arrived), without a byte reaching S3. What reconcile compares (#14).
 */
import type { AttachmentStore } from './s3-attachment-store.js';

export function createDiscardingAttachmentStore(): AttachmentStore {
  return {
    put(key, body, _contentType, sizeBytes) {
      // The same check as the real store, so a size mismatch is the same problem in both.
      if (body.byteLength !== sizeBytes) {
        return Promise.reject(
          new Error(`refusing to upload ${key}: body is ${body.byteLength} bytes, expected ${sizeBytes}`),
        );
      }
      return Promise.resolve();
    },
  };
}
