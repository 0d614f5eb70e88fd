import { fileTypeFromBuffer } from 'file-type';
import { describe, expect, it } from 'vitest';

import { fakeFileBody } from '../../../../src/crm/fake/fake-attachment-bytes.js';
import type { BytesKind } from '../../../../src/crm/fake/fake-note-traits.js';

const collect = (kind: BytesKind, size: number, seed = 1) =>
  Buffer.concat([...fakeFileBody(kind, size, seed).chunks()]);

describe('fake attachment bytes', () => {
  it.each<[BytesKind, string]>([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['mp3', 'audio/mpeg'],
    ['ogg', 'audio/ogg'],
    ['mp4', 'video/mp4'],
    ['pdf', 'application/pdf'],
    ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['doc', 'application/x-cfb'],
    ['exe', 'application/x-msdownload'],
  ])('makes %s bytes that file-type reads as %s, exactly the size asked for', async (kind, mime) => {
    const bytes = collect(kind, 20_000);
    expect(bytes.length).toBe(20_000);
    expect((await fileTypeFromBuffer(bytes))?.mime).toBe(mime);
  });

  it('repeats the same bytes for the same seed and differs for another', () => {
    expect(collect('pdf', 5000, 3).equals(collect('pdf', 5000, 3))).toBe(true);
    expect(collect('pdf', 5000, 3).equals(collect('pdf', 5000, 4))).toBe(false);
  });

  it('streams an oversized file in chunks of at most 64 KiB', () => {
    const size = 25 * 1024 * 1024 + 65_536;
    const body = fakeFileBody('mp4', size, 9);
    let total = 0;
    let largest = 0;
    for (const chunk of body.chunks()) {
      total += chunk.length;
      largest = Math.max(largest, chunk.length);
    }
    expect(body.sizeBytes).toBe(size);
    expect(total).toBe(size);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  });
});
