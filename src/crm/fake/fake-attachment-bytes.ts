/**
 * The bytes behind fake attachment URLs: real magic bytes for every kind (what `file-type`
 * checks), deterministic filler up to the declared size, produced in chunks so a 25 MiB file is
 * never held in memory. Office files are real (stored) ZIPs with `[Content_Types].xml`.
 */
import { crc32, deflateSync } from 'node:zlib';

import type { AttachmentKind, BytesKind } from './fake-note-traits.js';
import { createSeededRandom } from './seeded-random.js';

export const ATTACHMENT_CONTENT_TYPES: Record<AttachmentKind, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  doc: 'application/msword',
};

export const ATTACHMENT_EXTENSIONS: Record<AttachmentKind, string> = {
  png: 'png',
  jpeg: 'jpg',
  mp3: 'mp3',
  ogg: 'ogg',
  mp4: 'mp4',
  pdf: 'pdf',
  xlsx: 'xlsx',
  docx: 'docx',
  doc: 'doc',
};

const CHUNK_BYTES = 64 * 1024;

export interface FakeFileBody {
  sizeBytes: number;
  /** The body, in chunks of at most 64 KiB, exactly `sizeBytes` long. */
  chunks(): Generator<Buffer>;
}

/** A body of `sizeBytes` whose bytes are really `kind`; `seed` fixes the filler. */
export function fakeFileBody(kind: BytesKind, sizeBytes: number, seed: number): FakeFileBody {
  if (kind === 'docx' || kind === 'xlsx') {
    const zip = officeZip(kind, sizeBytes, seed);
    return { sizeBytes: zip.length, chunks: () => sliceChunks(zip) };
  }
  const head = HEADS[kind]();
  const tail = TAILS[kind] ?? Buffer.alloc(0);
  const fillerBytes = Math.max(0, sizeBytes - head.length - tail.length);
  return {
    sizeBytes: head.length + fillerBytes + tail.length,
    *chunks() {
      yield head;
      yield* filler(fillerBytes, seed);
      if (tail.length > 0) yield tail;
    },
  };
}

function* sliceChunks(buffer: Buffer): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += CHUNK_BYTES) yield buffer.subarray(at, at + CHUNK_BYTES);
}

function* filler(bytes: number, seed: number): Generator<Buffer> {
  const random = createSeededRandom(seed);
  let left = bytes;
  while (left > 0) {
    const size = Math.min(CHUNK_BYTES, left);
    const chunk = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4) {
      const word = Math.floor(random.next() * 0x1_0000_0000);
      for (let b = 0; b < 4 && i + b < size; b++) chunk[i + b] = (word >>> (8 * b)) & 0xff;
    }
    left -= size;
    yield chunk;
  }
}

/** A real 1×1 PNG: signature, IHDR, IDAT, IEND. Filler after IEND is ignored by decoders. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndData));
    return Buffer.concat([length, typeAndData, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 0x2a, 0x7f, 0xd4]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function ogg(): Buffer {
  const page = Buffer.alloc(28);
  page.write('OggS', 0, 'latin1');
  page[5] = 0x02; // beginning of stream
  page.writeUInt32LE(0x5eed, 14); // serial
  page[26] = 1; // one segment
  page[27] = 30; // of 30 bytes: the Vorbis identification header
  const ident = Buffer.alloc(30);
  ident.write('\x01vorbis', 0, 'latin1');
  ident[11] = 2; // channels
  ident.writeUInt32LE(44_100, 12);
  return Buffer.concat([page, ident]);
}

function mp4(): Buffer {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftypisom', 4, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isommp41', 16, 'latin1');
  // An `mdat` box header of unknown length (0 = to end of file) holds the filler.
  const mdat = Buffer.alloc(8);
  mdat.write('mdat', 4, 'latin1');
  return Buffer.concat([ftyp, mdat]);
}

const HEADS: Record<Exclude<BytesKind, 'docx' | 'xlsx'>, () => Buffer> = {
  png,
  jpeg: () =>
    Buffer.from([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
      0x01, 0x00, 0x00,
    ]),
  // ID3v2.3 tag of size 0, then an MPEG-1 Layer III frame header.
  mp3: () =>
    Buffer.from([0x49, 0x44, 0x33, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfb, 0x90, 0x64]),
  ogg,
  mp4,
  pdf: () =>
    Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\nstream\n', 'latin1'),
  doc: () => Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
  exe: () => Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]),
};

const TAILS: Partial<Record<BytesKind, Buffer>> = {
  jpeg: Buffer.from([0xff, 0xd9]),
  pdf: Buffer.from('\nendstream\n%%EOF\n', 'latin1'),
};

const OFFICE_PARTS: Record<
  'docx' | 'xlsx',
  { part: string; contentType: string; open: string; close: string }
> = {
  docx: {
    part: 'word/document.xml',
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
    open: '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>',
    close: '</w:t></w:r></w:p></w:body></w:document>',
  },
  xlsx: {
    part: 'xl/workbook.xml',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
    open: '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><!-- ',
    close: ' --><sheets/></workbook>',
  },
};

/** A stored (uncompressed) ZIP of exactly `sizeBytes` (or its minimum), padded inside the main part. */
function officeZip(kind: 'docx' | 'xlsx', sizeBytes: number, seed: number): Buffer {
  const spec = OFFICE_PARTS[kind];
  const contentTypes =
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    `<Override PartName="/${spec.part}" ContentType="${spec.contentType}"/></Types>`;
  const build = (padding: string) =>
    storedZip([
      ['[Content_Types].xml', Buffer.from(contentTypes)],
      [spec.part, Buffer.from(spec.open + padding + spec.close)],
    ]);
  const minimum = build('').length;
  const random = createSeededRandom(seed);
  const letters = 'abcdefghijklmnopqrstuvwxyz     ';
  let padding = '';
  for (let i = 0; i < sizeBytes - minimum; i++)
    padding += letters[Math.floor(random.next() * letters.length)];
  return build(padding);
}

function storedZip(entries: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
