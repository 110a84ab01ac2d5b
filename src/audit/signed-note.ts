/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, the envelope of a
 * checkpoint. Byte-compatible with golang.org/x/mod/sumdb/note: the Go package's published key
 * and signed note are test vectors (test/audit/signed-note.test.ts), so any verifier or witness
 * from that ecosystem accepts what this module signs.
 *
 *   note       = text "\n" 1*signature-line      (text is non-empty and ends in "\n")
 *   signature  = "— " name " " base64(key id ‖ Ed25519 signature over text) "\n"
 *   key id     = SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0:4]
 *   vkey       = name "+" hex(key id) "+" base64(0x01 ‖ public key)
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

const ED25519 = 0x01;
const SIGNATURE_PREFIX = '— ';
const MAX_SIGNATURES = 100;
/** DER prefixes that wrap a raw Ed25519 seed (PKCS#8) or public key (SPKI), RFC 8410 */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class NoteError extends Error {}

export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  publicKey: Buffer;
}

export interface OpenedNote {
  text: string;
  /** names of the given verifiers whose signature checked */
  verifiedBy: string[];
}

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/[\p{Cc}]/u.test(name);
}

export function keyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256').update(name, 'utf8').update(Buffer.of(0x0a, ED25519)).update(publicKey).digest().subarray(0, 4);
}

export function formatVerifierKey(v: NoteVerifier): string {
  return `${v.name}+${v.keyId.toString('hex')}+${Buffer.concat([Buffer.of(ED25519), v.publicKey]).toString('base64')}`;
}

export function parseVerifierKey(vkey: string): NoteVerifier {
  const parts = vkey.trim().split('+');
  // the base64 key may itself hold '+'
  const [name, id, ...rest] = parts;
  const encoded = rest.join('+');
  if (!name || !isValidKeyName(name) || !id || !/^[0-9a-f]{8}$/.test(id)) throw new NoteError('malformed verifier key');
  const key = strictBase64(encoded);
  if (key?.length !== 33 || key[0] !== ED25519) throw new NoteError('malformed verifier key');
  const publicKey = key.subarray(1);
  if (!keyId(name, publicKey).equals(Buffer.from(id, 'hex'))) throw new NoteError('malformed verifier key');
  return { name, keyId: Buffer.from(id, 'hex'), publicKey };
}

export class NoteSigner {
  readonly verifier: NoteVerifier;
  private readonly privateKey: KeyObject;

  constructor(
    readonly name: string,
    seed: Buffer,
  ) {
    if (!isValidKeyName(name)) throw new NoteError('a key name may not be empty or hold spaces or "+"');
    if (seed.length !== 32) throw new NoteError('an Ed25519 seed is 32 bytes');
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' });
    const publicKey = Buffer.from(spki.subarray(SPKI_PREFIX.length));
    this.verifier = { name, keyId: keyId(name, publicKey), publicKey };
  }

  /** the Go signer key form, `PRIVATE+KEY+name+id+base64(0x01 ‖ seed)` */
  static fromSignerKey(skey: string): NoteSigner {
    const match = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(skey.trim());
    const key = match ? strictBase64(match[3]!) : undefined;
    if (!match || !key || key.length !== 33 || key[0] !== ED25519) throw new NoteError('malformed signer key');
    const signer = new NoteSigner(match[1]!, key.subarray(1));
    if (signer.verifier.keyId.toString('hex') !== match[2]) throw new NoteError('malformed signer key');
    return signer;
  }

  /** the signed note: text, a blank line, this key's signature line */
  sign(text: string): string {
    checkText(text);
    const signature = sign(null, Buffer.from(text, 'utf8'), this.privateKey);
    return `${text}\n${SIGNATURE_PREFIX}${this.name} ${Buffer.concat([this.verifier.keyId, signature]).toString('base64')}\n`;
  }
}

/**
 * Splits a note, checks the signatures of the given verifiers and returns the text. Fails when
 * the note is malformed, when a signature by a known key does not verify, or when no known key
 * signed it. Signatures by unknown keys (a witness's cosignature, say) are skipped.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('malformed note');
  const text = note.slice(0, split + 1);
  checkText(text);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('malformed note: too many signatures');
  const verifiedBy: string[] = [];
  for (const line of lines) {
    const match = /^— (\S+) (\S+)$/u.exec(line);
    const blob = match ? strictBase64(match[2]!) : undefined;
    if (!match || !blob || blob.length < 5 || !isValidKeyName(match[1]!)) throw new NoteError('malformed note: bad signature line');
    const name = match[1]!;
    const id = blob.subarray(0, 4);
    const known = verifiers.find((v) => v.name === name && v.keyId.equals(id));
    if (!known) continue;
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, known.publicKey]), format: 'der', type: 'spki' });
    if (blob.length !== 4 + 64 || !verify(null, Buffer.from(text, 'utf8'), publicKey, blob.subarray(4))) {
      throw new NoteError(`the signature by ${name} does not verify`);
    }
    if (!verifiedBy.includes(name)) verifiedBy.push(name);
  }
  if (verifiedBy.length === 0) throw new NoteError('the note is not signed by a known key');
  return { text, verifiedBy };
}

function checkText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) throw new NoteError('malformed note: the text must end in a newline');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the check is for control characters
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) throw new NoteError('malformed note: control characters in the text');
  if (text.includes('\n\n') || text.startsWith('\n')) throw new NoteError('malformed note: blank line in the text');
}

/** base64 that decodes and re-encodes to itself, so one value has one spelling */
function strictBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
