/**
 * A witness that appends every checkpoint to a local file, meant to live where the database's
 * owner cannot rewrite it (another disk, a WORM mount, a file shipped off-host).
 *
 * The file is the signed notes one after another, each followed by a blank line:
 *
 *   <origin>\n<size>\n<root>\n\n— <key name> <signature>\n\n<origin>\n…
 *
 * so a note is a text block and a signature block, and notes are separated by one blank line.
 */
import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { parseCheckpointText } from '../checkpoint.js';
import type { Witness, WitnessedCheckpoint } from '../witness.js';

const SIGNATURE_LINE = /^— \S+ \S+$/u;
/** how much of the file's end is read to check its last note is whole: far more than a signature line */
const TAIL_BYTES = 4096;

export class FileWitness implements Witness {
  readonly description: string;
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
    this.description = `file ${this.path}`;
  }

  async send(checkpoint: WitnessedCheckpoint): Promise<void> {
    const { handle, created } = await openForAppend(this.path).catch((err) => {
      throw this.failed(`cannot open the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
    });
    try {
      // A file that does not end in a signature line and a blank line holds a torn note (a crash
      // or a full disk while writing). Appending after it would bury the torn note mid-file,
      // where a reader can no longer tell damage from tampering, so stop and let an operator look.
      const { size } = await handle.stat();
      if (size > 0 && !(await endsWithCompleteNote(handle, size))) {
        throw this.failed(`the file ends in an incomplete note (at byte ${size}); truncate it after its last signature line and blank line, then checkpoints are appended again`);
      }
      // one write() per note: O_APPEND places it whole at the end even with several writers
      const bytes = Buffer.from(`${checkpoint.note}\n`, 'utf8');
      const { bytesWritten } = await handle.write(bytes, 0, bytes.length);
      if (bytesWritten !== bytes.length) throw this.failed(`wrote ${bytesWritten} of ${bytes.length} bytes of the checkpoint at size ${checkpoint.size}`);
      await handle.sync();
    } catch (err) {
      if (err instanceof CallvaultError) throw err;
      throw this.failed(`cannot append the checkpoint at size ${checkpoint.size} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
    } finally {
      await handle.close();
    }
    // a new file's name is durable only once its directory is
    if (created) await syncDirectory(dirname(this.path)).catch(() => undefined);
  }

  private failed(message: string, cause?: unknown): CallvaultError {
    return new CallvaultError(ErrorCodes.WITNESS_FAILED, `${this.description}: ${message}`, { cause });
  }
}

async function openForAppend(path: string): Promise<{ handle: FileHandle; created: boolean }> {
  // read and write: the tail is read before appending
  const flags = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT;
  try {
    return { handle: await open(path, flags | constants.O_EXCL, 0o600), created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { handle: await open(path, flags, 0o600), created: false };
  }
}

/** whether the file's last bytes are a signature line and the blank line after it */
async function endsWithCompleteNote(handle: FileHandle, size: number): Promise<boolean> {
  const length = Math.min(size, TAIL_BYTES);
  const tail = Buffer.alloc(length);
  await handle.read(tail, 0, length, size - length);
  const text = tail.toString('utf8');
  if (!text.endsWith('\n\n')) return false;
  const start = text.lastIndexOf('\n', text.length - 3);
  // a last line longer than the window is no signature line
  if (start < 0 && length < size) return false;
  return SIGNATURE_LINE.test(text.slice(start + 1, -2));
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WitnessFile {
  /** every complete note, in file order */
  checkpoints: WitnessedCheckpoint[];
  /** set when an incomplete note at the end of the file was left out */
  warning?: string;
}

export async function readWitnessFile(path: string): Promise<WitnessFile> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (err) {
    throw new CallvaultError(ErrorCodes.WITNESS_FAILED, `file ${resolve(path)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  return parseWitnessFile(content, `file ${resolve(path)}`);
}

/**
 * Parses the notes of a witness file. Signatures are not checked here; the caller opens each
 * note with the log's key.
 *
 * An incomplete note at the very end (text with no signature line yet, or a last line with no
 * newline) is left out with a warning instead of failing: it is what a crash or a full disk
 * while appending leaves, its checkpoint also lives in the database, and failing would gain
 * nothing, since whoever can write the file can as well cut it at a note boundary, which no
 * reader can detect. Anything malformed before the end is damage or tampering and throws
 * CV_WITNESS_FAILED with the line number. Messages name positions and never quote the file.
 */
export function parseWitnessFile(content: string, label = 'witness file'): WitnessFile {
  const lines = content.split('\n');
  // lines[last] is what follows the final newline: '' when the file ends in one, else a torn line
  const last = lines.length - 1;
  const checkpoints: WitnessedCheckpoint[] = [];
  const malformed = (line: number, what: string) => new CallvaultError(ErrorCodes.WITNESS_FAILED, `${label}: line ${line + 1}: ${what}`);
  let i = 0;
  while (!(i === last && lines[i] === '')) {
    const start = i;
    const torn = (): WitnessFile => ({
      checkpoints,
      warning: `${label}: left out the incomplete note that starts at line ${start + 1}, the end of the file (a crash while writing?)`,
    });
    while (i < last && lines[i] !== '') i++;
    if (i === last) return torn();
    if (i === start) throw malformed(i, 'a blank line where a note should start');
    const textEnd = i;
    i++;
    const signaturesStart = i;
    while (i < last && lines[i]!.startsWith('— ')) {
      if (!SIGNATURE_LINE.test(lines[i]!)) throw malformed(i, 'a malformed signature line');
      i++;
    }
    if (i === last) {
      // a note is complete once it has a signature line ending in a newline; a missing blank
      // line after it is only the separator torn off
      if (i === signaturesStart || lines[i] !== '') return torn();
    } else if (i === signaturesStart) {
      throw malformed(i, 'a note without a signature line');
    } else if (lines[i] !== '') {
      throw malformed(i, 'no blank line after the signatures');
    }
    let size: number;
    try {
      size = parseCheckpointText(`${lines.slice(start, textEnd).join('\n')}\n`).size;
    } catch {
      throw malformed(start, 'a note that is not a checkpoint');
    }
    checkpoints.push({ note: `${lines.slice(start, i).join('\n')}\n`, size });
    if (i === last) break;
    i++;
  }
  return { checkpoints };
}
