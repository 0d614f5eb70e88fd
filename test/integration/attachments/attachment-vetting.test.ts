/**
 * The dry run's attachment stages (#13): `vetUrls` runs the SSRF guard only and fetches nothing;
 * `checkDownloads` downloads and type-checks exactly like the processor and uploads nothing — the
 * S3 server is asserted empty, then the real processor writes to it, so "empty" means something.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type AttachmentHandlers,
  type AttachmentInput,
  createAttachmentHandlers,
} from '../../../src/attachments/attachment-processor.js';
import {
  createS3AttachmentStore,
  type S3AttachmentStore,
} from '../../../src/attachments/s3-attachment-store.js';
import { createSilentLogger } from '../../../src/logger.js';
import { makeAttachmentInput, makeAttachmentsConfig } from '../../fixtures/attachment-builders.js';
import { PDF_BYTES, PNG_BYTES } from '../../fixtures/attachment-bytes.js';
import { policyTreatingAsPublic, scriptedResolver } from '../../helpers/attachment-seams.js';
import { startTestS3, type TestS3 } from '../../helpers/embedded-s3.js';
import { type FileServer, serveBytes, startFileServer } from '../../helpers/file-server.js';

let s3: TestS3;
let store: S3AttachmentStore;
let files: FileServer;
let handlers: AttachmentHandlers;

beforeAll(async () => {
  s3 = await startTestS3();
  store = createS3AttachmentStore(s3.config);
  files = await startFileServer({
    host: '127.0.0.2',
    scope: 'file',
    routes: {
      '/photo.png': serveBytes(PNG_BYTES, 'image/png'),
      '/fake.pdf': serveBytes(PNG_BYTES, 'application/pdf'),
      '/huge.pdf': serveBytes(Buffer.concat([PDF_BYTES, Buffer.alloc(2 * 1024 * 1024)]), 'application/pdf'),
    },
  });
  handlers = createAttachmentHandlers({
    config: makeAttachmentsConfig({ allowedHosts: ['files.crm.test'], allowedPorts: [files.port] }),
    store,
    logger: createSilentLogger(),
    resolver: scriptedResolver({ 'files.crm.test': [['127.0.0.2']] }),
    addressPolicy: policyTreatingAsPublic(['127.0.0.2']),
  });
});

afterAll(async () => {
  store.close();
  await files.close();
  await s3.stop();
});

const at = (path: string, fileName: string, extra: Partial<AttachmentInput> = {}) =>
  makeAttachmentInput({ url: files.url(path, 'files.crm.test'), fileName, ...extra });

const inputs = () => [
  at('/photo.png', 'photo.png', { kind: 'image', contentType: 'image/png', size: 1234 }),
  at('/fake.pdf', 'fake.pdf'),
  at('/huge.pdf', 'huge.pdf'),
  makeAttachmentInput({ url: 'http://169.254.169.254/latest/meta-data/x.pdf', fileName: 'x.pdf' }),
  makeAttachmentInput({ url: `http://files.unlisted.example:${files.port}/a.pdf`, fileName: 'a.pdf' }),
];

const codes = (r: { problems: { reasonCode: string; message: string }[] }) =>
  r.problems.map((p) => [p.reasonCode, p.message]);

describe('attachment stages that store nothing (dry run, #13)', () => {
  it('vets URLs without fetching a byte: blocked ones as the real run reports them, the rest at their declared size', async () => {
    const before = files.paths().length;
    const vetted = await handlers.vetUrls.process('co-1', '11', inputs());
    expect(files.paths().length).toBe(before);
    expect(vetted.attachments.map((a) => [a.file_name, a.file_size_in_byte])).toEqual([
      ['photo.png', 1234],
      ['fake.pdf', 0],
      ['huge.pdf', 0],
    ]);
    const real = await handlers.processor.process('co-1', '11', inputs());
    const blocked = (r: typeof real) => codes(r).filter(([code]) => code === 'ATTACHMENT_SSRF_BLOCKED');
    expect(blocked(vetted)).toEqual(blocked(real));
    expect(blocked(vetted)).toHaveLength(2);
  });

  it('checks downloads like the processor — TYPE_MISMATCH, TOO_LARGE, the same documents — with zero S3 writes', async () => {
    const keysBefore = await s3.keys();
    const checked = await handlers.checkDownloads.process('co-2', '22', inputs());
    expect(await s3.keys()).toEqual(keysBefore);
    expect(checked.problems.map((p) => p.reasonCode)).toEqual([
      'ATTACHMENT_TYPE_MISMATCH',
      'ATTACHMENT_TOO_LARGE',
      'ATTACHMENT_SSRF_BLOCKED',
      'ATTACHMENT_SSRF_BLOCKED',
    ]);
    const real = await handlers.processor.process('co-2', '22', inputs());
    expect(codes(checked)).toEqual(codes(real));
    expect(checked.attachments).toEqual(real.attachments);
    // The store works: the processor's upload is there, under the key the check predicted.
    expect((await s3.keys()).filter((k) => k.startsWith('co-2/'))).toHaveLength(1);
  });
});
