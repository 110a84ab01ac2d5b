/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed statement "the log named
 * origin had this many entries and this root hash".
 *
 *   <origin>\n<size in decimal>\n<base64 root hash>\n[extension lines]
 *
 * wrapped in a signed note (signed-note.ts).
 */
import { HASH_SIZE } from './merkle.js';
import { NoteError, openNote, type NoteSigner, type NoteVerifier } from './signed-note.js';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
}

export function checkpointText(cp: Checkpoint): string {
  // never sign a body that parses back as something else: an origin holding a newline could
  // supply size and root lines of its own choosing
  if (!cp.origin || cp.origin.includes('\n') || !Number.isSafeInteger(cp.size) || cp.size < 0 || cp.rootHash.length !== HASH_SIZE) {
    throw new NoteError('malformed checkpoint');
  }
  return `${cp.origin}\n${cp.size}\n${cp.rootHash.toString('base64')}\n`;
}

export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new NoteError('malformed checkpoint');
  const [origin, size, root] = lines;
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(size ?? '') || !Number.isSafeInteger(Number(size))) throw new NoteError('malformed checkpoint');
  const rootHash = Buffer.from(root ?? '', 'base64');
  if (rootHash.length !== HASH_SIZE || rootHash.toString('base64') !== root) throw new NoteError('malformed checkpoint');
  return { origin, size: Number(size), rootHash };
}

export function signCheckpoint(cp: Checkpoint, signer: NoteSigner): string {
  return signer.sign(checkpointText(cp));
}

/** opens a signed checkpoint: its signature by `verifier` must check and its origin must be `origin` */
export function openCheckpoint(note: string, verifier: NoteVerifier, origin: string): Checkpoint {
  const { text } = openNote(note, [verifier]);
  const cp = parseCheckpointText(text);
  if (cp.origin !== origin) throw new NoteError('the checkpoint is for another log');
  return cp;
}
