/**
 * Reads a ZIP archive with yauzl (a library apart from the yazl that wrote it) and checks every
 * entry's CRC-32, which yauzl itself does not.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import yauzl from 'yauzl';

export interface ZipEntry {
  data: Buffer;
  compressed: boolean;
}

export async function unzip(archive: Buffer): Promise<Map<string, ZipEntry>> {
  const zip = await yauzl.fromBufferPromise(archive, { lazyEntries: true });
  const out = new Map<string, ZipEntry>();
  for await (const entry of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    const crc32 = (zlib as unknown as { crc32: (b: Buffer) => number }).crc32(data);
    assert.equal(crc32 >>> 0, entry.crc32 >>> 0, `CRC-32 of ${entry.fileName}`);
    out.set(entry.fileName, { data, compressed: entry.compressionMethod !== 0 });
  }
  return out;
}
