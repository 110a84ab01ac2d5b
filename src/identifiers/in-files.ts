/**
 * The identifiers a recording's file carries besides its audio: in its own name and its
 * directories' names, and in its WAV INFO and ID3 tags. `callvault scan` counts them (docs/scan.md);
 * `callvault import` seals them with the recording and indexes them (docs/metadata.md §2), so that
 * a call whose only trace of the caller is `in-46701740611-….wav` is found by `subject find`.
 */
import { open } from 'node:fs/promises';
import { basename, isAbsolute, relative, sep } from 'node:path';
import { detectIdentifiers, type Detection } from '../pii/detector.js';
import { normalizePhone } from './normalize.js';

/** what a file's names and tags hold, each value once and sorted: personnummer and samordningsnummer as 12 digits, phones in E.164, e-mail lower-cased */
export interface FoundIdentifiers {
  phone: string[];
  personnummer: string[];
  email: string[];
}

/** a date with a time of day together, with or without the century: a recorder's file-name stamp */
const NAME_STAMP = /(?<!\d)(?:19|20)?\d{2}-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])[T_ -]?(?:[01]\d|2[0-3]):?[0-5]\d(?::?[0-5]\d)?(?!\d)/g;

/**
 * The identifiers in one file or directory name. A date with a time of day (`20180402-0830`,
 * `180402_083015`) is the call's time as recorders name files, not a personnummer, though one in
 * ten such stamps has the digits and check digit of one.
 */
export function identifiersInName(name: string): Detection[] {
  const stamps = [...name.matchAll(NAME_STAMP)].map((m) => [m.index, m.index + m[0].length] as const);
  const found = detectIdentifiers(name).filter((d) => !(d.type === 'personnummer' && stamps.some(([a, b]) => d.start >= a && d.end <= b)));
  // recorders write the caller's number with the country code and no plus: `in-46701740611-…`
  for (const m of name.matchAll(/(?<!\d)46\d{7,10}(?!\d)/g)) {
    if (found.some((d) => d.start < m.index + m[0].length && d.end > m.index)) continue;
    try {
      found.push({ type: 'phone', start: m.index, end: m.index + m[0].length, value: normalizePhone(`+${m[0]}`), confidence: 0.8 });
    } catch {
      // not a Swedish number
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/** random access to a file's bytes: a local file, a bucket's object, a served file, or the part of one already read */
export interface ByteSource {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
}

/**
 * At most this much of a file is read for its tags. Tags sit in small chunks (RIFF LIST/INFO) or
 * at the ends of the file (ID3v2 before the audio, ID3v1 and APE after it); the audio between is
 * skipped, not read. What lies beyond the limit (an ID3 tag with a large cover image) is not looked at.
 */
export const TAG_READ_LIMIT = 1024 * 1024;

/**
 * Whether the file may hold tags at all: a WAV with a LIST or id3 chunk, a file that starts with
 * an ID3v2 tag or ends with an ID3v1 or APE tag, or any other format (left to the parser). Most
 * archived calls have none, and the parser's set-up costs more than the whole scan of such a file.
 */
async function mayHaveTags(source: ByteSource): Promise<boolean> {
  const head = await source.read(0, 12);
  if (head.subarray(0, 3).toString('latin1') === 'ID3') return true;
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WAVE') {
    // the chunk headers only, from the first to the last: the audio between is not read
    for (let at = 12; at + 8 <= source.size; ) {
      const chunk = await source.read(at, 8);
      if (chunk.length < 8) return false;
      const id = chunk.subarray(0, 4).toString('latin1');
      if (id === 'LIST' || id.toLowerCase() === 'id3 ') return true;
      at += 8 + chunk.readUInt32LE(4) + (chunk.readUInt32LE(4) % 2);
    }
    return false;
  }
  if (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0) {
    const tail = await source.read(Math.max(0, source.size - 128), 128);
    // an APE tag's footer ends the file, or stands just before an ID3v1 tag
    const ape = (await source.read(Math.max(0, source.size - 160), 160)).toString('latin1');
    return tail.subarray(0, 3).toString('latin1') === 'TAG' || ape.includes('APETAGEX');
  }
  return true;
}

/** the text of every tag in a WAV's INFO chunk or an MP3's ID3 tags (music-metadata), reading at most `limit` bytes */
export async function tagTexts(source: ByteSource, limit = TAG_READ_LIMIT): Promise<string[]> {
  if (!(await mayHaveTags(source))) return [];
  const { parseBlob } = await import('music-metadata');
  let spent = 0;
  // music-metadata reads a Blob by slices (strtok3's BlobTokenizer): this one reads each slice
  // from the source when asked, so the audio it skips is never read
  const blob = {
    size: source.size,
    type: '',
    slice: (start: number, end: number) => ({
      arrayBuffer: async () => {
        spent += end - start;
        if (spent > limit) throw new RangeError('the tags are larger than callvault reads');
        const bytes = await source.read(start, end - start);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
      },
    }),
  };
  // the parser's collector, seen by the observer from its first event, holds the tags read before a failure
  type Native = Record<string, { value: unknown }[]>;
  let partial: { native?: Native } | undefined;
  let native: Native;
  try {
    native = (
      await parseBlob(blob as unknown as Blob, {
        duration: false,
        skipCovers: true,
        observer: (event) => {
          partial ??= event.metadata;
        },
      })
    ).native;
  } catch {
    native = partial?.native ?? {};
  }
  const out: string[] = [];
  for (const tags of Object.values(native)) for (const tag of tags) strings(tag.value, out);
  return out;
}

/** the strings of a tag's value: a plain text, or an ID3 comment's or user frame's `{ description, text }` */
function strings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) for (const v of Object.values(value)) strings(v, out);
}

export async function identifiersInTags(source: ByteSource, limit = TAG_READ_LIMIT): Promise<Detection[]> {
  return (await tagTexts(source, limit)).flatMap((text) => detectIdentifiers(text));
}

/** a local file as a ByteSource, open for the duration of `use` */
export async function withFileSource<T>(path: string, use: (source: ByteSource) => Promise<T>): Promise<T> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    return await use({
      size,
      read: async (position, length) => {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
        const { bytesRead } = await fh.read(buffer, 0, buffer.length, position);
        return buffer.subarray(0, bytesRead);
      },
    });
  } finally {
    await fh.close();
  }
}

/** each value once, by type: the samordningsnummer with the personnummer (one lookup finds both) */
export function foundIdentifiers(detections: Iterable<Detection>): FoundIdentifiers | undefined {
  const sets = { phone: new Set<string>(), personnummer: new Set<string>(), email: new Set<string>() };
  for (const d of detections) sets[d.type === 'samordningsnummer' ? 'personnummer' : d.type].add(d.value);
  if (sets.phone.size + sets.personnummer.size + sets.email.size === 0) return undefined;
  return { phone: [...sets.phone].sort(), personnummer: [...sets.personnummer].sort(), email: [...sets.email].sort() };
}

/**
 * The identifiers in an imported file's names and tags. The names are those of the path below
 * `root`, the directory the import was given (or the file itself): directories above it are where
 * the operator keeps the archive, and a number in one would be put on every call beneath it. Tags
 * that cannot be read (not there, broken, beyond TAG_READ_LIMIT) are no reason to refuse a file.
 */
export async function identifiersOfFile(path: string, root: string): Promise<FoundIdentifiers | undefined> {
  const rel = relative(root, path);
  const names = rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? [basename(path)] : rel.split(sep);
  const detections = names.flatMap((name) => identifiersInName(name));
  detections.push(...(await withFileSource(path, (source) => identifiersInTags(source)).catch(() => [])));
  return foundIdentifiers(detections);
}
