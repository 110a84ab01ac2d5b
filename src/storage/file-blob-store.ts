/**
 * Blobs as files under a directory. Writes go to a temporary file that is fsynced and renamed
 * into place, so a crash leaves either the whole object or debris in `.tmp/`.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CallvaultError, ErrorCodes } from '../errors.js';
import { fsyncDir, processAlive } from '../util/fs.js';
import type { CiphertextSource } from '../container/decrypt.js';
import { assertBlobKey, type BlobStore, type PendingBlob } from './blob-store.js';

const SEALED_SEGMENT_BYTES = 64 * 1024 + 16;

const TMP = '.tmp';

export class FileBlobStore implements BlobStore {
  readonly kind = 'file';
  readonly #host = hostname().replace(/[^A-Za-z0-9-]/g, '_');

  constructor(readonly root: string) {}

  /** directories this process made or found: an import would otherwise ask for two per file */
  readonly #dirs = new Set<string>();

  async #mkdir(dir: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.#dirs.add(dir);
  }

  async begin(key: string): Promise<PendingBlob> {
    const target = this.#path(key);
    const tmpDir = join(this.root, TMP);
    await this.#mkdir(tmpDir);
    const tmp = join(tmpDir, `${this.#host}.${process.pid}.${randomBytes(8).toString('hex')}.part`);
    // flush: the descriptor is fsynced before it is closed, so 'close' means the data is durable
    const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024, flush: true });
    const closed = once(stream, 'close');
    // a temporary directory removed meanwhile is made again by the next attempt
    stream.once('error', () => this.#dirs.delete(tmpDir));
    return {
      stream,
      commit: async () => {
        if (!stream.writableFinished) throw new Error('commit before the stream finished');
        await closed;
        await this.#mkdir(dirname(target));
        await rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
          // a directory removed since this process made it (an operator's clean-up): made again
          if (err.code !== 'ENOENT') throw err;
          this.#dirs.clear();
          await this.#mkdir(dirname(target));
          await rename(tmp, target);
        });
        await fsyncDir(dirname(target));
      },
      abort: async () => {
        stream.destroy();
        await closed.catch(() => {});
        await unlink(tmp).catch(() => {});
      },
    };
  }

  async open(key: string): Promise<CiphertextSource> {
    const path = this.#path(key);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CallvaultError(ErrorCodes.BLOB_NOT_FOUND, 'stored object is missing');
      throw err;
    }
    return {
      size,
      read: (start: number, end: number) =>
        // one sealed 64 KiB segment per read: chunks line up with segments, so the decryptor
        // never has to join pieces, and a paused stream holds one segment
        end <= start ? emptyIterable() : createReadStream(path, { start, end: end - 1, highWaterMark: SEALED_SEGMENT_BYTES }),
      readAt: (start: number, end: number) => readAt(path, start, end),
    };
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.#path(key)).then(
      () => true,
      () => false,
    );
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fsyncDir(dirname(path)).catch(() => {});
  }

  async *list(): AsyncIterable<string> {
    const walk = async function* (dir: string): AsyncGenerator<string> {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.name === TMP) continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) yield* walk(p);
        else if (e.isFile() && !e.name.startsWith('.')) yield p;
      }
    };
    for await (const p of walk(this.root)) yield relative(this.root, p).split(sep).join('/');
  }

  async removeDebris(): Promise<number> {
    const dir = join(this.root, TMP);
    let removed = 0;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const [host, pid] = name.split('.');
      if (host !== this.#host || !pid) continue;
      // a live process with that pid which started after the file was last written is not its writer
      const written = await stat(join(dir, name)).then(
        (s) => s.mtime,
        () => undefined,
      );
      if (written && !processAlive(Number(pid), written)) {
        await unlink(join(dir, name)).catch(() => {});
        removed += 1;
      }
    }
    return removed;
  }

  /**
   * Writes and removes a small file where begin() writes. The root is not created: a missing
   * objects directory is a volume that is not mounted (or was removed), and a probe that made it
   * again would call that ready.
   */
  async probe(): Promise<void> {
    const tmpDir = join(this.root, TMP);
    // named like a writer's temporary file, so removeDebris takes it if this process dies meanwhile
    const file = join(tmpDir, `${this.#host}.${process.pid}.probe-${randomBytes(4).toString('hex')}.part`);
    try {
      await mkdir(tmpDir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      await writeFile(file, 'probe', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CallvaultError(
        ErrorCodes.STORAGE_FAILED,
        code === 'ENOENT' ? 'the objects directory is missing' : `the objects directory cannot be written${code ? ` (${code})` : ''}`,
      );
    } finally {
      await unlink(file).catch(() => {});
    }
  }

  #path(key: string): string {
    assertBlobKey(key);
    return join(this.root, ...key.split('/'));
  }
}

/** bytes [start, end) of a file with positioned reads (one, unless the kernel returns fewer) */
async function readAt(path: string, start: number, end: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(Math.max(0, end - start));
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new CallvaultError(ErrorCodes.BLOB_NOT_FOUND, 'stored object is missing');
    throw err;
  });
  try {
    let got = 0;
    while (got < buffer.length) {
      const { bytesRead } = await file.read(buffer, got, buffer.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buffer.subarray(0, got);
  } finally {
    await file.close();
  }
}

async function* emptyIterable(): AsyncGenerator<Buffer> {}
