import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type AttachmentInput,
  createAttachmentProcessor,
} from '../../../src/attachments/attachment-processor.js';
import {
  type AttachmentStore,
  createS3AttachmentStore,
  type S3AttachmentStore,
} from '../../../src/attachments/s3-attachment-store.js';
import type { Config } from '../../../src/config.js';
import { createLogger, createSilentLogger } from '../../../src/logger.js';
import { makeAttachmentInput, makeAttachmentsConfig } from '../../fixtures/attachment-builders.js';
import { MP4_BYTES, PDF_BYTES, PNG_BYTES, WAV_BYTES, XLSX_BYTES } from '../../fixtures/attachment-bytes.js';
import { policyTreatingAsPublic, scriptedResolver } from '../../helpers/attachment-seams.js';
import { startTestS3, type TestS3 } from '../../helpers/embedded-s3.js';
import { type FileServer, serveBytes, startServerPairOnOnePort } from '../../helpers/file-server.js';

/*
 * The fake CRM file host `files.crm.test` resolves to 127.0.0.2, which the address-policy seam
 * treats as public; `internal.crm.test` resolves to 127.0.0.1 (same port), which stays private.
 * So every download really goes through the pinned connector, and a request that reached the
 * internal server would show up in its connection count.
 */
describe('attachment processor', () => {
  let s3: TestS3;
  let store: S3AttachmentStore;
  let crm: FileServer;
  let internal: FileServer;
  beforeAll(async () => {
    s3 = await startTestS3();
    store = createS3AttachmentStore(s3.config);
    const pair = await startServerPairOnOnePort(
      { scope: 'file', routes: { '/secret.pdf': serveBytes(PDF_BYTES, 'application/pdf') } },
      {
        scope: 'file',
        routes: {
          '/photo.png': serveBytes(PNG_BYTES, 'image/png'),
          '/memo.wav': serveBytes(WAV_BYTES, 'audio/wav'),
          '/clip.mp4': serveBytes(MP4_BYTES, 'video/mp4'),
          '/contract.pdf': serveBytes(PDF_BYTES, 'application/pdf'),
          '/budget.xlsx': serveBytes(XLSX_BYTES),
          '/fake.pdf': serveBytes(PNG_BYTES, 'application/pdf'),
          '/huge.pdf': serveBytes(
            Buffer.concat([PDF_BYTES, Buffer.alloc(2 * 1024 * 1024)]),
            'application/pdf',
          ),
        },
      },
    );
    crm = pair.external;
    internal = pair.internal;
  });
  afterAll(async () => {
    store.close();
    await Promise.all([crm.close(), internal.close(), s3.stop()]);
  });

  const url = (path: string, host = 'files.crm.test') => crm.url(path, host);
  const config = (overrides: Partial<Config['attachments']> = {}) =>
    makeAttachmentsConfig({
      allowedHosts: ['files.crm.test', 'internal.crm.test'],
      allowedPorts: [crm.port],
      ...overrides,
    });
  const processor = (overrides: { store?: AttachmentStore; config?: Partial<Config['attachments']> } = {}) =>
    createAttachmentProcessor({
      config: config(overrides.config),
      store: overrides.store ?? store,
      logger: createSilentLogger(),
      resolver: scriptedResolver({ 'files.crm.test': [['127.0.0.2']], 'internal.crm.test': [['127.0.0.1']] }),
      addressPolicy: policyTreatingAsPublic(['127.0.0.2']),
    });

  const image = () =>
    makeAttachmentInput({
      kind: 'image',
      url: url('/photo.png'),
      fileName: 'photo.png',
      contentType: 'image/png',
    });
  const voice = () =>
    makeAttachmentInput({ kind: 'audio', url: url('/memo.wav'), fileName: null, contentType: 'audio/wav' });
  const pdf = () =>
    makeAttachmentInput({ kind: 'document', url: url('/contract.pdf'), fileName: 'Contract.pdf' });

  it('re-hosts an image, a voice note, a video, a PDF and a spreadsheet, with proxy URLs only', async () => {
    const inputs: AttachmentInput[] = [
      image(),
      voice(),
      makeAttachmentInput({
        kind: 'audio',
        url: url('/clip.mp4'),
        fileName: 'clip.mp4',
        contentType: 'video/mp4',
      }),
      pdf(),
      makeAttachmentInput({ url: url('/budget.xlsx'), fileName: 'Budget 2024.xlsx', contentType: null }),
    ];
    const result = await processor().process('company-1', '1001', inputs);
    expect(result.problems).toEqual([]);
    expect(result.attachments.map((a) => [a.type, a.file_name, a.file_size_in_byte])).toEqual([
      ['image', 'photo.png', PNG_BYTES.length],
      ['voice_note', 'memo.wav', WAV_BYTES.length],
      ['video', 'clip.mp4', MP4_BYTES.length],
      ['pdf', 'Contract.pdf', PDF_BYTES.length],
      ['xlsx', 'Budget 2024.xlsx', XLSX_BYTES.length],
    ]);
    for (const a of result.attachments) {
      expect(a.url).toMatch(/^https:\/\/cdp\.test\/attachments\/company-1\/1001\/[a-z0-9._-]+$/);
    }
    const serialized = JSON.stringify(result);
    expect(serialized).not.toContain('crm.test');
    expect(serialized).not.toContain(String(crm.port));

    const key = result.attachments[3]!.url.replace('https://cdp.test/attachments/', '');
    const stored = await s3.get(key);
    expect(stored.body.equals(PDF_BYTES)).toBe(true);
    expect(stored.contentType).toBe('application/pdf');
  });

  it('uploads to the same keys on a re-run, so the object count does not change', async () => {
    const inputs = [image(), voice(), pdf()];
    const first = await processor().process('company-2', '77', inputs);
    const keysAfterFirst = await s3.keys();
    const second = await processor().process('company-2', '77', inputs);
    expect(second).toEqual(first);
    expect(await s3.keys()).toEqual(keysAfterFirst);
    expect(keysAfterFirst.filter((k) => k.startsWith('company-2/77/'))).toHaveLength(3);
  });

  const failingStore: AttachmentStore = {
    put: (key, body, contentType, size) =>
      key.includes('/contract-')
        ? Promise.reject(new Error('S3 said SlowDown'))
        : store.put(key, body, contentType, size),
  };

  it.each<[string, string, string, () => AttachmentInput, AttachmentStore | undefined]>([
    [
      'an internal host',
      'ATTACHMENT_SSRF_BLOCKED',
      'internal.crm.test resolves to 127.0.0.1, which is loopback',
      () => ({ ...pdf(), url: url('/secret.pdf', 'internal.crm.test') }),
      undefined,
    ],
    [
      'a missing file',
      'ATTACHMENT_DOWNLOAD_FAILED',
      'HTTP 404',
      () => ({ ...pdf(), url: url('/gone.pdf') }),
      undefined,
    ],
    [
      'a file over the cap',
      'ATTACHMENT_TOO_LARGE',
      'over MAX_ATTACHMENT_BYTES',
      () => ({ ...pdf(), url: url('/huge.pdf') }),
      undefined,
    ],
    [
      'a PDF made of PNG bytes',
      'ATTACHMENT_TYPE_MISMATCH',
      'expected a PDF',
      () => ({ ...pdf(), url: url('/fake.pdf'), fileName: 'fake.pdf' }),
      undefined,
    ],
    ['an upload S3 refuses', 'ATTACHMENT_UPLOAD_FAILED', 'S3 said SlowDown', pdf, failingStore],
  ])(
    'keeps the other two attachments when one of three is %s, and records one %s problem',
    async (_label, reasonCode, message, failing, customStore) => {
      const bad = failing();
      const result = await processor({ store: customStore }).process('company-3', `note-${reasonCode}`, [
        image(),
        bad,
        voice(),
      ]);
      expect(result.attachments.map((a) => a.type)).toEqual(['image', 'voice_note']);
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toMatchObject({ reasonCode, fileName: bad.fileName });
      expect(result.problems[0]!.message).toContain(message);
      expect(internal.connections()).toBe(0);
    },
  );

  it('strips credentials and query values from the URL a problem records', async () => {
    const result = await processor().process('company-4', '1', [
      { ...pdf(), url: `http://user:hunter2@files.crm.test:${crm.port}/contract.pdf?token=abc` },
    ]);
    expect(result.problems[0]).toMatchObject({ reasonCode: 'ATTACHMENT_SSRF_BLOCKED' });
    expect(result.problems[0]!.url).toBe(`http://files.crm.test:${crm.port}/contract.pdf?token=[redacted]`);
  });

  it.each([2, 5])(
    'starts no more than ATTACHMENT_CONCURRENCY (%i) attachments at once',
    async (concurrency) => {
      // The resolver is the probe: every attachment asks it first, and it answers only when told.
      // Between the limiter starting a task and that task asking the resolver there is no I/O, so
      // once the event loop has turned (setImmediate: every microtask has run) the number of
      // questions waiting is exactly the number of attachments started.
      const waiting: (() => void)[] = [];
      let answerAtOnce = false;
      const resolver = {
        resolve: () =>
          new Promise<string[]>((resolve) => {
            if (answerAtOnce) resolve(['127.0.0.2']);
            else waiting.push(() => resolve(['127.0.0.2']));
          }),
      };
      const limited = createAttachmentProcessor({
        config: config({ concurrency }),
        store,
        logger: createSilentLogger(),
        resolver,
        addressPolicy: policyTreatingAsPublic(['127.0.0.2']),
      });
      const inputs = Array.from({ length: 6 }, (_, i) =>
        makeAttachmentInput({ kind: 'image', url: `${url('/photo.png')}?n=${i}`, fileName: `p${i}.png` }),
      );
      const pending = limited.process('company-5', String(concurrency), inputs);
      await new Promise((resolve) => setImmediate(resolve));
      expect(waiting).toHaveLength(concurrency);
      answerAtOnce = true;
      for (const answer of waiting.splice(0)) answer();
      const result = await pending;
      expect(result.problems).toEqual([]);
      expect(result.attachments).toHaveLength(6);
    },
  );

  it('rejects, recording nothing, when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('run cancelled'));
    await expect(processor().process('company-6', '1', [image()], controller.signal)).rejects.toThrow(
      'run cancelled',
    );
  });

  it('returns nothing for a note without attachments', async () => {
    expect(await processor().process('company-7', '1', [])).toEqual({ attachments: [], problems: [] });
  });

  it('logs a warning when the private-network switch is on', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createAttachmentProcessor({
      config: config({ allowPrivateNetworks: true }),
      store,
      logger: createLogger({ level: 'info', destination }),
    });
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(warnings).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'attachment_private_networks_allowed' }),
    );
  });
});
