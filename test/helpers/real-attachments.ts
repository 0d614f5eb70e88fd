/**
 * The attachment pipeline as the service builds it (`app.ts`), for tests that drive runs
 * directly: the real processor uploading to an embedded S3, the same processor on a store that
 * keeps nothing (what reconcile uses), and the S3 store's object deletion (rollback). Downloads
 * may reach the fake CRM on 127.0.0.1 at its port only.
 */
import { createAttachmentProcessor } from '../../src/attachments/attachment-processor.js';
import { createDiscardingAttachmentStore } from '../../src/attachments/discarding-attachment-store.js';
import {
  createS3AttachmentStore,
  type S3AttachmentStore,
} from '../../src/attachments/s3-attachment-store.js';
import { createSilentLogger } from '../../src/logger.js';
import type { AttachmentRehoster } from '../../src/migration/pipeline-ports.js';
import { makeAttachmentsConfig } from '../fixtures/attachment-builders.js';
import type { TestS3 } from './embedded-s3.js';

export const PROXY_BASE_URL = 'https://cdp.test/attachments';

export interface RealAttachments {
  attachments: AttachmentRehoster;
  attachmentsWithoutUpload: AttachmentRehoster;
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
  const logger = createSilentLogger();
  const store = createS3AttachmentStore(s3.config);
  return {
    attachments: createAttachmentProcessor({ config, store, logger }),
    attachmentsWithoutUpload: createAttachmentProcessor({
      config,
      store: createDiscardingAttachmentStore(),
      logger,
    }),
    attachmentObjects: store,
    close: () => store.close(),
  };
}
