/**
 * The attachment pipeline as the service builds it (`app.ts`), for tests that drive runs
 * directly: the real processor uploading to an embedded S3, its checks that store nothing (what
 * the dry run and reconcile use), and the S3 store's object deletion (rollback). Downloads may
 * reach the fake CRM on 127.0.0.1 at its port only.
 */
import { createAttachmentHandlers } from '../../src/attachments/attachment-processor.js';
import {
  createS3AttachmentStore,
  type S3AttachmentStore,
} from '../../src/attachments/s3-attachment-store.js';
import { createSilentLogger } from '../../src/logger.js';
import type { AttachmentRehoster } from '../../src/migration/pipeline-ports.js';
import type { RunKindDeps } from '../../src/migration/run-step.js';
import { makeAttachmentsConfig } from '../fixtures/attachment-builders.js';
import type { TestS3 } from './embedded-s3.js';

export const PROXY_BASE_URL = 'https://cdp.test/attachments';

export interface RealAttachments {
  attachments: AttachmentRehoster;
  vetAttachments: RunKindDeps['vetAttachments'];
  attachmentObjects: S3AttachmentStore;
  close(): void;
}

export function createRealAttachments(s3: TestS3, filesPort: number): RealAttachments {
  const config = makeAttachmentsConfig({
    allowedHosts: ['127.0.0.1'],
    allowedPorts: [filesPort],
    allowPrivateNetworks: true,
    maxBytes: 25 * 1024 * 1024,
    proxyBaseUrl: PROXY_BASE_URL,
  });
  const store = createS3AttachmentStore(s3.config);
  const handlers = createAttachmentHandlers({ config, store, logger: createSilentLogger() });
  return {
    attachments: handlers.processor,
    vetAttachments: { urls: handlers.vetUrls, downloads: handlers.checkDownloads },
    attachmentObjects: store,
    close: () => store.close(),
  };
}
