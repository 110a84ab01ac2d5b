import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyfileProvider } from '../../src/keys/keyfile/keyfile-provider.js';
import { ErrorCodes } from '../../src/errors.js';
import { keyProviderContract } from './key-provider.contract.js';
import { tempDir } from '../helpers.js';

// the minimum the keyring accepts, so the suite stays quick; production uses DEFAULT_KDF
const FAST_KDF = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };
const SECRET = 'keyring contract passphrase';

keyProviderContract('keyfile', async () => {
  const dir = await tempDir('data', 'keyring');
  let n = 0;
  return {
    secret: SECRET,
    fresh: async () => KeyfileProvider.create(join(dir, `keyring-${n++}.json`), SECRET, FAST_KDF),
    reopen: async (p) => KeyfileProvider.load((p as KeyfileProvider).path),
  };
});

async function keyringWithKey() {
  const path = join(await tempDir('data', 'keyring'), 'keyring.json');
  const p = await KeyfileProvider.create(path, SECRET, FAST_KDF);
  await p.generate('region-a');
  return path;
}

it('keyfile: stores KDF parameters and no key material in the clear', async () => {
  const path = await keyringWithKey();
  const text = await readFile(path, 'utf8');
  const file = JSON.parse(text);
  assert.deepEqual(Object.keys(file.kdf).sort(), ['algorithm', 'iterations', 'memoryKiB', 'parallelism', 'salt']);
  assert.equal(file.kdf.algorithm, 'argon2id');
  assert.ok(!('privateKey' in file.keys[0]));
  assert.ok(!text.includes(SECRET));
});

it('keyfile: a substituted public key is caught at unlock', async () => {
  const path = await keyringWithKey();
  const file = JSON.parse(await readFile(path, 'utf8'));
  const other = await KeyfileProvider.create(join(await tempDir('data', 'keyring'), 'k.json'), SECRET, FAST_KDF);
  file.keys[0].publicKey = (await other.generate('region-a')).publicKey.toString('base64');
  await writeFile(path, JSON.stringify(file));
  await assert.rejects((await KeyfileProvider.load(path)).unlock(SECRET), (e: any) => e.code === ErrorCodes.KEYRING_INVALID);
});

it('keyfile: weakened KDF parameters read as a wrong passphrase, never as success', async () => {
  const path = await keyringWithKey();
  const file = JSON.parse(await readFile(path, 'utf8'));
  file.kdf.iterations = 2;
  await writeFile(path, JSON.stringify(file));
  await assert.rejects((await KeyfileProvider.load(path)).unlock(SECRET), (e: any) => e.code === ErrorCodes.WRONG_PASSPHRASE);
  file.kdf.memoryKiB = 1024;
  await writeFile(path, JSON.stringify(file));
  await assert.rejects(KeyfileProvider.load(path), (e: any) => e.code === ErrorCodes.KEYRING_INVALID);
});

it('keyfile: a damaged or foreign file gives one clear error', async () => {
  const path = await keyringWithKey();
  for (const content of ['{', '[]', '{"format":"other"}', '']) {
    await writeFile(path, content);
    await assert.rejects(KeyfileProvider.load(path), (e: any) => e.code === ErrorCodes.KEYRING_INVALID && !e.message.includes(SECRET));
  }
  await assert.rejects(KeyfileProvider.load(`${path}.missing`), (e: any) => e.code === ErrorCodes.NOT_INITIALISED);
});

it('keyfile: a sealed private key moved to another entry does not open', async () => {
  const path = await keyringWithKey();
  const p = await KeyfileProvider.load(path);
  await p.unlock(SECRET);
  await p.generate('region-b');
  const file = JSON.parse(await readFile(path, 'utf8'));
  [file.keys[0].sealedPrivateKey, file.keys[1].sealedPrivateKey] = [file.keys[1].sealedPrivateKey, file.keys[0].sealedPrivateKey];
  await writeFile(path, JSON.stringify(file));
  await assert.rejects((await KeyfileProvider.load(path)).unlock(SECRET), (e: any) => e.code === ErrorCodes.KEYRING_INVALID);
});
