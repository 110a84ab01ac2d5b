/**
 * Signed notes (src/audit/signed-note.ts) against golang.org/x/mod/sumdb/note's published test
 * key and note, Go's key-mangling test, and malformed notes; then checkpoints (checkpoint.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkpointText, openCheckpoint, parseCheckpointText, signCheckpoint, type Checkpoint } from '../../src/audit/checkpoint.js';
import { rootOf, leafHash } from '../../src/audit/merkle.js';
import { formatVerifierKey, keyId, NoteError, NoteSigner, openNote, parseVerifierKey } from '../../src/audit/signed-note.js';

// from golang.org/x/mod/sumdb/note (note_test.go, example_test.go)
const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIG_LINE = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const NOTE = `${TEXT}\n${SIG_LINE}`;

const seed = (label: string): Buffer => createHash('sha256').update(label).digest();
const peter = () => parseVerifierKey(VKEY);

/** the NoteError message openNote throws, failing the test if it accepts or throws anything else */
function openError(note: string, verifiers = [peter()]): string {
  try {
    openNote(note, verifiers);
  } catch (err) {
    assert.ok(err instanceof NoteError, `expected a NoteError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`the note was accepted: ${JSON.stringify(note)}`);
}

describe('signed note: the Go reference vector', () => {
  test('the note starts its signature line with U+2014', () => {
    assert.equal(SIG_LINE.codePointAt(0), 0x2014);
    assert.equal(Buffer.from(SIG_LINE, 'utf8').subarray(0, 4).toString('hex'), 'e2809420');
  });

  test('signing with the Go signer key gives the Go note byte for byte', () => {
    const signer = NoteSigner.fromSignerKey(SKEY);
    assert.equal(signer.name, 'PeterNeumann');
    assert.equal(signer.sign(TEXT), NOTE);
    assert.ok(Buffer.from(signer.sign(TEXT), 'utf8').equals(Buffer.from(NOTE, 'utf8')));
  });

  test('the signer key gives the Go verifier key', () => {
    const signer = NoteSigner.fromSignerKey(SKEY);
    assert.equal(formatVerifierKey(signer.verifier), VKEY);
    assert.equal(signer.verifier.keyId.toString('hex'), 'c74f20a3');
    assert.deepEqual(keyId('PeterNeumann', signer.verifier.publicKey), signer.verifier.keyId);
  });

  test('parseVerifierKey and formatVerifierKey round trip', () => {
    const v = parseVerifierKey(VKEY);
    assert.equal(v.name, 'PeterNeumann');
    assert.equal(v.keyId.toString('hex'), 'c74f20a3');
    assert.equal(v.publicKey.length, 32);
    assert.equal(formatVerifierKey(v), VKEY);
  });

  test('openNote accepts the Go note', () => {
    assert.deepEqual(openNote(NOTE, [peter()]), { text: TEXT, verifiedBy: ['PeterNeumann'] });
  });

  test('a signer built from the raw seed matches the signer key', () => {
    const raw = Buffer.from(SKEY.split('+').slice(4).join('+'), 'base64').subarray(1);
    assert.equal(new NoteSigner('PeterNeumann', raw).sign(TEXT), NOTE);
  });
});

describe('signed note: keys', () => {
  // as Go's TestNewVerifier: every proper substring and every byte + 1 must be refused
  function manglings(key: string): string[] {
    const out: string[] = [];
    for (let i = 0; i <= key.length; i++) {
      for (let j = i + 1; j <= key.length; j++) if (i !== 0 || j !== key.length) out.push(key.slice(i, j));
    }
    for (let i = 0; i < key.length; i++) out.push(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1));
    return out;
  }

  test('every substring and every byte + 1 of the verifier key is refused', () => {
    const bad = manglings(VKEY);
    assert.ok(bad.length > 2000);
    for (const k of bad) assert.throws(() => parseVerifierKey(k), NoteError, k);
  });

  test('every substring and every byte + 1 of the signer key is refused', () => {
    for (const k of manglings(SKEY)) assert.throws(() => NoteSigner.fromSignerKey(k), NoteError, k);
  });

  test('other malformed verifier keys', () => {
    const [name, id, key] = [VKEY.slice(0, 12), VKEY.slice(13, 21), VKEY.slice(22)];
    for (const k of [
      '',
      `${name}+${id}`,
      `${name}+${id.toUpperCase()}+${key}`, // one spelling of the id only
      `${name}+${id}+${key}=`,
      `Peter Neumann+${id}+${key}`,
      `+${id}+${key}`,
      `${name}+${id}+${Buffer.concat([Buffer.of(0x02), Buffer.from(key, 'base64').subarray(1)]).toString('base64')}`, // not Ed25519
      `${name}+${id}+${Buffer.from(key, 'base64').subarray(0, 32).toString('base64')}`,
      `Peterneumann+${id}+${key}`, // the key id covers the name
    ]) {
      assert.throws(() => parseVerifierKey(k), NoteError, k);
    }
  });

  test('the signer refuses names with spaces, "+" or nothing, and seeds that are not 32 bytes', () => {
    for (const name of ['', 'a b', 'a+b', 'a\tb', 'a\nb']) assert.throws(() => new NoteSigner(name, seed('x')), NoteError, JSON.stringify(name));
    assert.throws(() => new NoteSigner('a', Buffer.alloc(31)), NoteError);
    assert.throws(() => new NoteSigner('a', Buffer.alloc(33)), NoteError);
  });

  test('the signer refuses text that is not one block of lines ending in a newline', () => {
    const signer = NoteSigner.fromSignerKey(SKEY);
    for (const text of ['', 'no newline', 'blank\n\nline\n', '\nleading blank line\n', 'tab\there\n', 'nul\u0000\n', 'del\u007f\n']) {
      assert.throws(() => signer.sign(text), NoteError, JSON.stringify(text));
    }
  });
});

describe('signed note: opening', () => {
  const other = new NoteSigner('PeterNeumann', seed('another key with the same name'));
  const witness = new NoteSigner('witness.example/w1', seed('a witness'));
  const cosignature = (note: string) => witness.sign(openNote(note, [peter()]).text).split('\n\n')[1]!;

  test('altered text is refused', () => {
    for (const altered of [TEXT.replace('cryptography', 'Cryptography'), TEXT.replace('is.\n', 'is!\n'), `extra line\n${TEXT}`, `${TEXT}extra line\n`]) {
      assert.match(openError(`${altered}\n${SIG_LINE}`), /does not verify/);
    }
  });

  test('an altered signature is refused, whichever byte', () => {
    const blob = Buffer.from(SIG_LINE.slice(15, -1), 'base64');
    assert.equal(blob.length, 68);
    for (let i = 4; i < blob.length; i++) {
      const bad = Buffer.from(blob);
      bad[i]! ^= 0x01;
      assert.match(openError(`${TEXT}\n\u2014 PeterNeumann ${bad.toString('base64')}\n`), /does not verify/, `byte ${i}`);
    }
    // shortened or lengthened but well-formed base64: a known key whose signature does not verify
    for (const bad of [blob.subarray(0, 67), blob.subarray(0, 5), Buffer.concat([blob, Buffer.of(0)])]) {
      assert.match(openError(`${TEXT}\n\u2014 PeterNeumann ${bad.toString('base64')}\n`), /does not verify/, `${bad.length} bytes`);
    }
  });

  test('a note signed only by an unknown key is refused', () => {
    assert.match(openError(witness.sign(TEXT)), /not signed by a known key/);
    // same name, another key: the key id differs, so it is an unknown key, not a bad signature
    assert.notDeepEqual(other.verifier.keyId, peter().keyId);
    assert.match(openError(other.sign(TEXT)), /not signed by a known key/);
    // a known key's id under another name is unknown too
    const renamed = SIG_LINE.replace('PeterNeumann', 'PaulNeumann');
    assert.match(openError(`${TEXT}\n${renamed}`), /not signed by a known key/);
    assert.match(openError(NOTE, []), /not signed by a known key/);
  });

  test('an unknown signature beside a valid one is skipped', () => {
    const cosig = cosignature(NOTE);
    for (const note of [`${NOTE}${cosig}`, `${TEXT}\n${cosig}${SIG_LINE}`, `${NOTE}${other.sign(TEXT).split('\n\n')[1]}`]) {
      assert.deepEqual(openNote(note, [peter()]), { text: TEXT, verifiedBy: ['PeterNeumann'] });
    }
    // and both count when both keys are known
    assert.deepEqual(openNote(`${NOTE}${cosig}`, [peter(), witness.verifier]).verifiedBy, ['PeterNeumann', 'witness.example/w1']);
  });

  test('a bad signature by a known key is refused even beside a good one', () => {
    // 'M' → 'E' changes a signature bit; the key id (the first 4 bytes) stays, so the key is known
    const bad = SIG_LINE.replace('AM=', 'AE=');
    assert.match(openError(`${NOTE}${bad}`), /does not verify/);
  });

  test('malformed notes are refused', () => {
    const cases: Record<string, string> = {
      'text only': TEXT,
      'text and blank line only': `${TEXT}\n`,
      'no blank line before the signatures': `${TEXT}${SIG_LINE}`,
      'no trailing newline': `${TEXT}\n${SIG_LINE.slice(0, -1)}`,
      'a trailing blank line': `${NOTE}\n`,
      'control character in the text': `\u0001${TEXT}\n${SIG_LINE}`,
      'tab in the text': `${TEXT.replace(' ', '\t')}\n${SIG_LINE}`,
      'carriage return line ends': `${TEXT.replaceAll('\n', '\r\n')}\n${SIG_LINE}`,
      'space in the signer name': `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      'a line that is not a signature': `${NOTE}Unexpected line.\n`,
      'hyphen instead of an em dash': `${TEXT}\n${SIG_LINE.replace('\u2014', '-')}`,
      'two spaces after the dash': `${TEXT}\n${SIG_LINE.replace('\u2014 ', '\u2014  ')}`,
      'no signature base64': `${TEXT}\n\u2014 PeterNeumann \n`,
      'signature shorter than a key id and one byte': `${TEXT}\n\u2014 PeterNeumann AAAAAA==\n`,
      'bad base64': `${TEXT}\n${SIG_LINE.replace('x08go', 'x08g!')}`,
      'url-safe base64': `${TEXT}\n${SIG_LINE.replace('x08go/', 'x08go_')}`,
      'missing base64 padding': `${TEXT}\n${SIG_LINE.replace('=\n', '\n')}`,
      // 'M' and 'N' differ only in the low bits that the padding drops: the same bytes, spelled twice
      'non-canonical base64 (non-zero padding bits)': `${TEXT}\n${SIG_LINE.replace('AM=\n', 'AN=\n')}`,
      'empty text': `\n${SIG_LINE}`,
      'blank line inside the text': `${TEXT.replace('\n', '\n\n')}\n${SIG_LINE}`,
      'more than 100 signatures': `${NOTE}${cosignature(NOTE).repeat(100)}`,
    };
    for (const [what, note] of Object.entries(cases)) {
      assert.match(openError(note), /malformed/, what);
    }
    // the canonical-base64 case really decodes to the same bytes, so only the spelling is wrong
    assert.deepEqual(Buffer.from(SIG_LINE.slice(15, -1).replace('AM=', 'AN='), 'base64'), Buffer.from(SIG_LINE.slice(15, -1), 'base64'));
    assert.match(openError(cases['non-canonical base64 (non-zero padding bits)']!), /malformed/);
    assert.match(openError(cases['no blank line before the signatures']!), /malformed/);
    assert.match(openError(cases['control character in the text']!), /malformed/);
  });
});

describe('checkpoints', () => {
  const origin = 'callvault.example/audit';
  const signer = new NoteSigner(origin, seed('callvault checkpoint test key'));
  const leaves = Array.from({ length: 11 }, (_, i) => leafHash(Buffer.from(`{"i":${i}}`)));
  const cp: Checkpoint = { origin, size: 11, rootHash: rootOf(leaves) };
  const note = signCheckpoint(cp, signer);
  const root64 = cp.rootHash.toString('base64');

  function openCheckpointError(n: string, o = origin, verifier = signer.verifier): string {
    try {
      openCheckpoint(n, verifier, o);
    } catch (err) {
      assert.ok(err instanceof NoteError, `expected a NoteError, got ${String(err)}`);
      return err.message;
    }
    assert.fail(`the checkpoint was accepted: ${JSON.stringify(n)}`);
  }

  test('sign and open round trip', () => {
    assert.equal(checkpointText(cp), `${origin}\n11\n${root64}\n`);
    assert.ok(note.startsWith(`${origin}\n11\n${root64}\n\n\u2014 ${origin} `));
    assert.deepEqual(openCheckpoint(note, signer.verifier, origin), cp);
    assert.deepEqual(openCheckpoint(note, parseVerifierKey(formatVerifierKey(signer.verifier)), origin), cp);
    const empty = { origin, size: 0, rootHash: rootOf([]) };
    assert.deepEqual(openCheckpoint(signCheckpoint(empty, signer), signer.verifier, origin), empty);
  });

  test('extension lines are allowed and ignored; a witness cosignature is skipped', () => {
    const withExtension = signer.sign(`${checkpointText(cp)}extension line\n`);
    assert.deepEqual(openCheckpoint(withExtension, signer.verifier, origin), cp);
    const witness = new NoteSigner('witness.example/w1', seed('a witness'));
    const cosig = witness.sign(checkpointText(cp)).split('\n\n')[1]!;
    assert.deepEqual(openCheckpoint(`${note}${cosig}`, signer.verifier, origin), cp);
  });

  test('wrong origin', () => {
    assert.match(openCheckpointError(note, 'callvault.example/other'), /another log/);
    // a checkpoint signed by the right key for another origin is refused too
    assert.match(openCheckpointError(signer.sign(`other.example/log\n11\n${root64}\n`)), /another log/);
  });

  test('malformed bodies are refused even when properly signed', () => {
    const bad: Record<string, string> = {
      'size with a leading zero': `${origin}\n011\n${root64}\n`,
      'negative size': `${origin}\n-11\n${root64}\n`,
      'size with a plus sign': `${origin}\n+11\n${root64}\n`,
      'size in hex': `${origin}\n0xb\n${root64}\n`,
      'size beyond 2^53': `${origin}\n9007199254740993\n${root64}\n`,
      'size with a space': `${origin}\n11 \n${root64}\n`,
      'empty size': `${origin}\n\n${root64}\n`,
      '31-byte root': `${origin}\n11\n${cp.rootHash.subarray(0, 31).toString('base64')}\n`,
      '33-byte root': `${origin}\n11\n${Buffer.concat([cp.rootHash, Buffer.of(0)]).toString('base64')}\n`,
      'hex root': `${origin}\n11\n${cp.rootHash.toString('hex')}\n`,
      'root without padding': `${origin}\n11\n${root64.replace(/=+$/, '')}\n`,
      'no root line': `${origin}\n11\n`,
    };
    // a 32-byte root's base64 ends in one "=" and a character whose low 2 bits are dropped
    const last = root64.at(-2)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    // url-safe base64 decodes to the same bytes in Node; only a standard spelling is accepted
    const urlSafe = `${cp.rootHash.toString('base64url')}=`;
    if (urlSafe !== root64) bad['url-safe base64 root'] = `${origin}\n11\n${urlSafe}\n`;
    bad['non-canonical base64 root'] = `${origin}\n11\n${root64.slice(0, -2)}${sibling}=\n`;
    assert.deepEqual(Buffer.from(`${root64.slice(0, -2) + sibling}=`, 'base64'), cp.rootHash, 'same bytes, other spelling');
    for (const [what, text] of Object.entries(bad)) {
      assert.throws(() => parseCheckpointText(text), NoteError, what);
      // an empty size line is a blank line, which the note layer refuses to sign at all
      if (what === 'empty size') assert.throws(() => signer.sign(text), NoteError);
      else assert.match(openCheckpointError(signer.sign(text)), /malformed checkpoint/, what);
    }
  });

  test('a checkpoint re-signed by another key with the same name is refused', () => {
    const impostor = new NoteSigner(origin, seed('someone else'));
    assert.match(openCheckpointError(signCheckpoint(cp, impostor)), /not signed by a known key/);
    // and the impostor's own verifier does not vouch for the real key's checkpoints
    assert.match(openCheckpointError(note, origin, impostor.verifier), /not signed by a known key/);
  });

  test('a forged root or size under the original signature is refused', () => {
    const sig = note.split('\n\n')[1]!;
    const forgedRoot = rootOf([...leaves.slice(0, 10), leafHash(Buffer.from('{"i":"forged"}'))]);
    assert.match(openCheckpointError(`${checkpointText({ ...cp, rootHash: forgedRoot })}\n${sig}`), /does not verify/);
    assert.match(openCheckpointError(`${checkpointText({ ...cp, size: 12 })}\n${sig}`), /does not verify/);
    assert.match(openCheckpointError(`${checkpointText({ ...cp, size: 10, rootHash: rootOf(leaves.slice(0, 10)) })}\n${sig}`), /does not verify/);
  });

  test('checkpointText refuses what it could not read back', () => {
    for (const bad of [
      { ...cp, origin: '' },
      { ...cp, origin: `${origin}\n5\n${root64}` },
      { ...cp, size: -1 },
      { ...cp, size: 1.5 },
      { ...cp, size: 2 ** 53 },
      { ...cp, rootHash: cp.rootHash.subarray(0, 31) },
    ]) {
      assert.throws(() => signCheckpoint(bad, signer), NoteError, JSON.stringify({ ...bad, rootHash: bad.rootHash.toString('hex') }));
    }
  });
});
