/**
 * Controller keys in a local keyring file, docs/keys.md §3. Every private key and the installation
 * secret are sealed with AES-256-GCM under a key-encryption key derived from the passphrase with
 * Argon2id; the KDF parameters are stored in the file.
 */
import { hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { open, seal } from '../../util/aead.js';
import { generateControllerKeyPair, Recipient, SUITE_NAME, unwrapDataKey } from '../hpke.js';
import type { ControllerKey, KeyProvider } from '../key-provider.js';

const KEYRING_FORMAT = 'callvault-keyring/v1';

export interface KdfParams {
  algorithm: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  salt: string;
}

interface KeyEntry {
  keyId: string;
  controllerId: string;
  suite: string;
  publicKey: string;
  status: 'active' | 'retired';
  createdAt: string;
  /** absent: a controller key; otherwise what the key covers (key-provider.ts) */
  scope?: string;
  sealedPrivateKey: string;
}

interface KeyringFile {
  format: typeof KEYRING_FORMAT;
  kdf: KdfParams;
  /** a sealed constant: tells a wrong passphrase apart from a damaged entry */
  check: string;
  sealedInstallationSecret: string;
  keys: KeyEntry[];
  /** keys destroyed (key-provider.ts `destroyedKeys`): ids only, nothing that opens anything */
  destroyed?: { keyId: string; controllerId: string; scope: string; destroyedAt: string }[];
}

/** OWASP's first Argon2id recommendation: 64 MiB, 3 passes (about 0.3 s here). */
export const DEFAULT_KDF = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 };
const MIN_KDF = { memoryKiB: 8 * 1024, iterations: 1 };
const CHECK_PLAINTEXT = Buffer.from('callvault keyring passphrase check', 'latin1');

export class KeyfileProvider implements KeyProvider {
  readonly kind = 'keyfile';
  #file: KeyringFile;
  #kek: Buffer | null = null;
  #installationSecret: Buffer | null = null;
  readonly #privateKeys = new Map<string, Recipient>();

  private constructor(
    readonly path: string,
    file: KeyringFile,
  ) {
    this.#file = file;
  }

  static async load(path: string): Promise<KeyfileProvider> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new CallvaultError(ErrorCodes.NOT_INITIALISED, 'no keyring in this data directory: run `callvault init`');
      }
      throw err;
    }
    return new KeyfileProvider(path, parseKeyring(text));
  }

  /** Creates a new keyring holding only the installation secret, unlocked. */
  static async create(path: string, passphrase: string, kdf = DEFAULT_KDF): Promise<KeyfileProvider> {
    if (kdf.memoryKiB < MIN_KDF.memoryKiB || kdf.iterations < MIN_KDF.iterations) throw new RangeError('KDF parameters too weak');
    const params: KdfParams = { algorithm: 'argon2id', ...kdf, salt: randomBytes(16).toString('base64') };
    const kek = await deriveKek(passphrase, params);
    const secret = randomBytes(32);
    const file: KeyringFile = {
      format: KEYRING_FORMAT,
      kdf: params,
      check: seal(kek, CHECK_PLAINTEXT, checkAad(params)).toString('base64'),
      sealedInstallationSecret: seal(kek, secret, Buffer.from('installation-secret', 'latin1')).toString('base64'),
      keys: [],
    };
    await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
    const provider = new KeyfileProvider(path, file);
    provider.#kek = kek;
    provider.#installationSecret = secret;
    return provider;
  }

  get unlocked(): boolean {
    return this.#kek !== null;
  }

  async list(): Promise<ControllerKey[]> {
    return this.#file.keys.map(publicPart);
  }

  async activeKey(controllerId: string): Promise<ControllerKey> {
    const entry = this.#file.keys.find((k) => k.controllerId === controllerId && k.status === 'active' && !k.scope);
    if (!entry) throw new CallvaultError(ErrorCodes.KEY_NOT_FOUND, `controller ${controllerId} has no active key`);
    return publicPart(entry);
  }

  async unlock(passphrase: string): Promise<void> {
    const kek = await deriveKek(passphrase, this.#file.kdf);
    try {
      open(kek, Buffer.from(this.#file.check, 'base64'), checkAad(this.#file.kdf));
    } catch {
      throw new CallvaultError(ErrorCodes.WRONG_PASSPHRASE, 'the passphrase does not unlock this keyring');
    }
    const secret = openOrInvalid(kek, this.#file.sealedInstallationSecret, Buffer.from('installation-secret', 'latin1'));
    // Opening every private key now means a substituted public key is caught at unlock.
    for (const entry of this.#file.keys) {
      this.#privateKeys.set(entry.keyId, importPair(entry, openOrInvalid(kek, entry.sealedPrivateKey, entryAad(entry))));
    }
    this.#kek = kek;
    this.#installationSecret = secret;
  }

  async generate(controllerId: string, scope?: string): Promise<ControllerKey> {
    const kek = this.#requireKek();
    const { privateKey, publicKey } = generateControllerKeyPair();
    const recipient = new Recipient(privateKey, publicKey);
    const entry: Omit<KeyEntry, 'sealedPrivateKey'> = {
      keyId: randomUUID(),
      controllerId,
      suite: SUITE_NAME,
      publicKey: publicKey.toString('base64'),
      status: 'active',
      createdAt: new Date().toISOString(),
      ...(scope ? { scope } : {}),
    };
    const sealed: KeyEntry = { ...entry, sealedPrivateKey: seal(kek, privateKey, entryAad(entry)).toString('base64') };
    privateKey.fill(0);
    // a scoped key retires nothing; a new controller key retires the controller's previous one
    const keys = scope ? this.#file.keys : this.#file.keys.map((k) => (k.controllerId === controllerId && !k.scope ? { ...k, status: 'retired' as const } : k));
    const next: KeyringFile = { ...this.#file, keys: [...keys, sealed] };
    await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
    this.#file = next;
    this.#privateKeys.set(entry.keyId, recipient);
    return publicPart(sealed);
  }

  async destroy(keyId: string): Promise<void> {
    this.#requireKek();
    const entry = this.#file.keys.find((k) => k.keyId === keyId);
    if (!entry) return;
    if (!entry.scope) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, "a controller's own key is never destroyed");
    // the file without the entry replaces the old one atomically: no copy of the sealed key stays in it
    const destroyed = [...(this.#file.destroyed ?? []), { keyId, controllerId: entry.controllerId, scope: entry.scope, destroyedAt: new Date().toISOString() }];
    const next: KeyringFile = { ...this.#file, keys: this.#file.keys.filter((k) => k.keyId !== keyId), destroyed };
    await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
    this.#file = next;
    this.#privateKeys.delete(keyId);
  }

  async destroyedKeys(): Promise<string[]> {
    return (this.#file.destroyed ?? []).map((d) => d.keyId);
  }

  async unwrap(keyId: string, wrapped: Buffer, info: Buffer): Promise<Buffer> {
    this.#requireKek();
    const recipient = this.#privateKeys.get(keyId);
    if (!recipient) throw new CallvaultError(ErrorCodes.KEY_NOT_FOUND, `key ${keyId} is not in this keyring`);
    return unwrapDataKey(recipient, wrapped, info);
  }

  derivedSecret(purpose: string): Buffer {
    this.#requireKek();
    return Buffer.from(hkdfSync('sha256', this.#installationSecret!, Buffer.alloc(0), Buffer.from(`callvault/${purpose}`, 'utf8'), 32));
  }

  #requireKek(): Buffer {
    if (!this.#kek) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'the keyring is locked: a passphrase is needed');
    return this.#kek;
  }
}

function parseKeyring(text: string): KeyringFile {
  const invalid = () => new CallvaultError(ErrorCodes.KEYRING_INVALID, 'the keyring file is damaged or not a callvault keyring');
  let file: KeyringFile;
  try {
    file = JSON.parse(text) as KeyringFile;
  } catch {
    throw invalid();
  }
  const kdf = file?.kdf;
  if (
    file?.format !== KEYRING_FORMAT ||
    kdf?.algorithm !== 'argon2id' ||
    !Number.isInteger(kdf.memoryKiB) ||
    kdf.memoryKiB < MIN_KDF.memoryKiB ||
    !Number.isInteger(kdf.iterations) ||
    kdf.iterations < MIN_KDF.iterations ||
    !Number.isInteger(kdf.parallelism) ||
    kdf.parallelism < 1 ||
    typeof kdf.salt !== 'string' ||
    typeof file.check !== 'string' ||
    typeof file.sealedInstallationSecret !== 'string' ||
    !Array.isArray(file.keys) ||
    (file.destroyed !== undefined && (!Array.isArray(file.destroyed) || file.destroyed.some((d) => typeof d?.keyId !== 'string')))
  ) {
    throw invalid();
  }
  for (const k of file.keys) {
    if (
      typeof k?.keyId !== 'string' ||
      typeof k.controllerId !== 'string' ||
      typeof k.publicKey !== 'string' ||
      typeof k.sealedPrivateKey !== 'string' ||
      (k.status !== 'active' && k.status !== 'retired') ||
      (k.scope !== undefined && typeof k.scope !== 'string')
    ) {
      throw invalid();
    }
  }
  return file;
}

async function deriveKek(passphrase: string, kdf: KdfParams): Promise<Buffer> {
  if (passphrase.length === 0) throw new CallvaultError(ErrorCodes.WRONG_PASSPHRASE, 'the passphrase is empty');
  // loaded on first use: an importer never derives a key and need not carry the module (~14 MB)
  const { Algorithm, hashRaw } = await import('@node-rs/argon2');
  return hashRaw(passphrase, {
    algorithm: Algorithm.Argon2id,
    memoryCost: kdf.memoryKiB,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
    salt: Buffer.from(kdf.salt, 'base64'),
    outputLen: 32,
  });
}

function checkAad(kdf: KdfParams): Buffer {
  return Buffer.from(`check\n${kdf.algorithm}\n${kdf.memoryKiB}\n${kdf.iterations}\n${kdf.parallelism}\n${kdf.salt}`, 'latin1');
}

function entryAad(e: Omit<KeyEntry, 'sealedPrivateKey' | 'status'>): Buffer {
  // status is left out on purpose: rotation retires a key without re-sealing it; the scope is
  // bound (a period key cannot be passed off as another period's), and absent for controller keys
  return Buffer.from(`key\n${e.keyId}\n${e.controllerId}\n${e.suite}\n${e.publicKey}\n${e.createdAt}${e.scope ? `\nscope\n${e.scope}` : ''}`, 'utf8');
}

function openOrInvalid(key: Buffer, sealedB64: string, aad: Buffer): Buffer {
  try {
    return open(key, Buffer.from(sealedB64, 'base64'), aad);
  } catch {
    throw new CallvaultError(ErrorCodes.KEYRING_INVALID, 'a keyring entry does not authenticate: the keyring was altered or damaged');
  }
}

/** the private key, which must give the public key stored beside it */
function importPair(entry: KeyEntry, privateKey: Buffer): Recipient {
  try {
    return new Recipient(privateKey, Buffer.from(entry.publicKey, 'base64'));
  } catch {
    throw new CallvaultError(ErrorCodes.KEYRING_INVALID, 'a keyring entry does not authenticate: the keyring was altered or damaged');
  } finally {
    privateKey.fill(0);
  }
}

function publicPart(e: KeyEntry): ControllerKey {
  return { keyId: e.keyId, controllerId: e.controllerId, publicKey: Buffer.from(e.publicKey, 'base64'), status: e.status, createdAt: e.createdAt, scope: e.scope ?? null };
}
