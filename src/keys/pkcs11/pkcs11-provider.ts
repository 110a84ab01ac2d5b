/**
 * Controller keys and the installation secret in a PKCS#11 token (an HSM), docs/keys.md §6.
 *
 * On the token, every label starting with `<object>/` (the URL's object= attribute):
 *
 *     <object>/keyring                 CKO_DATA, public   marks an initialised keyring (format, createdAt)
 *     <object>/installation            CKK_GENERIC_SECRET, 32 bytes, sensitive, never extractable: HMAC key
 *     <object>/key/<controller>/<id>   P-256 key pair, CKA_ID = key id; the private half sensitive,
 *                                      never extractable, derive-only; the public half a public object
 *     <object>/entry/<id>              CKO_DATA, public: {keyId, controllerId, suite, createdAt, mac}
 *     <object>/retired/<id>            CKO_DATA, public: the key was retired (append-only: nothing is modified)
 *
 * `mac` is HMAC-SHA256 under the installation key, computed in the token, over the entry and its
 * public key: public objects can be written by anyone who can reach the token, PIN or not, so
 * unlock checks every entry (and that each private key matches its public key) and reports
 * tampering as CV_KEYRING_INVALID, as the keyfile does.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Handle } from 'pkcs11js';
import { CallvaultError, ErrorCodes, decryptionFailed } from '../../errors.js';
import { SUITE_NAME } from '../hpke.js';
import type { ControllerKey, KeyProvider } from '../key-provider.js';
import { isP256Point, N_ENC, N_T, openBaseWithDh } from '../rfc9180.js';
import {
  acquireModule,
  ckr,
  ckrName,
  ecdhInToken,
  findAll,
  hmacInToken,
  P256_GENERATOR,
  P256_PARAMS,
  pinVerifier,
  releaseModule,
  sameVerifier,
  tokenLogin,
  unwrapEcPoint,
  type LoadedModule,
  type TokenLogin,
} from './module.js';
import { parsePkcs11Url, readPin, type PinEnvironment, type Pkcs11Config } from './url.js';

export { parsePkcs11Url, type Pkcs11Config, type PinSource, type PinEnvironment } from './url.js';

const APPLICATION = 'callvault';
const KEYRING_FORMAT = 'callvault-hsm-keyring/v1';
const ENTRY_FORMAT = 'callvault-hsm-key/v1';
const RETIRED_FORMAT = 'callvault-hsm-retired/v1';
const DESTROYED_FORMAT = 'callvault-hsm-destroyed/v1';
const WRAPPED_KEY_SIZE = N_ENC + 32 + N_T;

interface Entry {
  keyId: string;
  controllerId: string;
  suite: string;
  createdAt: string;
  mac: Buffer;
  publicKey: Buffer;
  /** a retirement marker exists */
  retired: boolean;
  /** absent: a controller key; otherwise what the key covers (key-provider.ts) */
  scope?: string;
}

export class Pkcs11KeyProvider implements KeyProvider {
  readonly kind = 'pkcs11';
  #m: LoadedModule | null;
  readonly #session: Handle;
  readonly #login: TokenLogin;
  #unlocked = false;
  #installationKey: Handle | null = null;
  readonly #derived = new Map<string, Buffer>();
  readonly #privateKeys = new Map<string, Handle>();
  /** entries whose MAC and key pair were checked while unlocked, by key id */
  readonly #verified = new Map<string, { fingerprint: string; entry: Entry }>();

  /** where a pin-source=env:NAME is read from */
  #pinEnvironment: PinEnvironment = {};

  private constructor(
    /** the parsed CALLVAULT_KMS; a pin-value in it is non-enumerable, so it does not print */
    readonly config: Pkcs11Config,
    m: LoadedModule,
    session: Handle,
    login: TokenLogin,
  ) {
    this.#m = m;
    this.#session = session;
    this.#login = login;
  }

  /** Opens the keyring on the token named by the URL, locked. `pinEnvironment` holds what a pin-source=env:NAME names. */
  static async open(url: string, pinEnvironment: PinEnvironment = {}): Promise<Pkcs11KeyProvider> {
    const p = await Pkcs11KeyProvider.#connect(parsePkcs11Url(url));
    p.#pinEnvironment = pinEnvironment;
    try {
      if (p.#findData(p.#label('keyring')).length === 0) {
        throw new CallvaultError(
          ErrorCodes.NOT_INITIALISED,
          `the token "${p.config.token}" holds no callvault keyring under object=${p.config.objectPrefix}: run \`callvault init\``,
        );
      }
      return p;
    } catch (err) {
      await p.close();
      throw err;
    }
  }

  /**
   * Creates a keyring on an initialised token (one whose user PIN is set): the installation key
   * and the keyring marker, and no controller key yet. Returns it unlocked. `pin` as for unlock().
   */
  static async create(url: string, pin: string, pinEnvironment: PinEnvironment = {}): Promise<Pkcs11KeyProvider> {
    const p = await Pkcs11KeyProvider.#connect(parsePkcs11Url(url));
    p.#pinEnvironment = pinEnvironment;
    try {
      p.#logIn(await p.#resolvePin(pin));
      try {
        const { lib, pkcs11 } = p.#module();
        if (p.#findData(p.#label('keyring')).length > 0 || p.#findInstallationKeys().length > 0) {
          throw new CallvaultError(
            ErrorCodes.ALREADY_INITIALISED,
            `the token "${p.config.token}" holds a callvault keyring under object=${p.config.objectPrefix} already: name another object= in CALLVAULT_KMS`,
          );
        }
        const installation = pkcs11.C_GenerateKey(p.#session, { mechanism: lib.CKM_GENERIC_SECRET_KEY_GEN }, [
          { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
          { type: lib.CKA_KEY_TYPE, value: lib.CKK_GENERIC_SECRET },
          { type: lib.CKA_VALUE_LEN, value: 32 },
          { type: lib.CKA_TOKEN, value: true },
          { type: lib.CKA_PRIVATE, value: true },
          { type: lib.CKA_SENSITIVE, value: true },
          { type: lib.CKA_EXTRACTABLE, value: false },
          { type: lib.CKA_SIGN, value: true },
          { type: lib.CKA_VERIFY, value: false },
          { type: lib.CKA_ENCRYPT, value: false },
          { type: lib.CKA_DECRYPT, value: false },
          { type: lib.CKA_WRAP, value: false },
          { type: lib.CKA_UNWRAP, value: false },
          { type: lib.CKA_DERIVE, value: false },
          { type: lib.CKA_LABEL, value: p.#label('installation') },
          { type: lib.CKA_ID, value: Buffer.from('installation', 'latin1') },
        ]);
        // the marker last: a keyring without it is an interrupted create, and open() refuses it
        try {
          p.#createData(p.#label('keyring'), { format: KEYRING_FORMAT, suite: SUITE_NAME, createdAt: new Date().toISOString() });
        } catch (err) {
          pkcs11.C_DestroyObject(p.#session, installation); // nothing was derived from it yet
          throw err;
        }
      } catch (err) {
        p.#releaseLogin();
        throw err;
      }
      p.#unlocked = true;
      p.#login.holders.add(p);
      return p;
    } catch (err) {
      await p.close();
      throw err;
    }
  }

  static async #connect(config: Pkcs11Config): Promise<Pkcs11KeyProvider> {
    const m = await acquireModule(config.modulePath);
    try {
      const { lib, pkcs11 } = m;
      const matches = pkcs11.C_GetSlotList(true).filter((slot) => {
        const info = pkcs11.C_GetTokenInfo(slot);
        return (
          info.label.trimEnd() === config.token &&
          (config.serial === undefined || info.serialNumber.trimEnd() === config.serial) &&
          (config.manufacturer === undefined || info.manufacturerID.trimEnd() === config.manufacturer) &&
          (config.model === undefined || info.model.trimEnd() === config.model) &&
          (config.slotId === undefined || slotNumber(slot) === config.slotId)
        );
      });
      if (matches.length === 0) throw new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_KMS: no token labelled "${config.token}" in ${config.modulePath}`);
      if (matches.length > 1) throw new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_KMS: more than one token labelled "${config.token}": add serial= to the URL`);
      const slot = matches[0]!;
      const flags = pkcs11.C_GetTokenInfo(slot).flags;
      if (!(flags & lib.CKF_TOKEN_INITIALIZED) || !(flags & lib.CKF_USER_PIN_INITIALIZED)) {
        throw new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_KMS: the token "${config.token}" is not initialised or has no user PIN`);
      }
      let session: Handle;
      try {
        session = pkcs11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
      } catch (err) {
        // a write-protected token still reads and unwraps; generate() then fails with the token's error
        if (ckr(err) !== lib.CKR_TOKEN_WRITE_PROTECTED) throw err;
        session = pkcs11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION);
      }
      return new Pkcs11KeyProvider(config, m, session, tokenLogin(m, slot));
    } catch (err) {
      releaseModule(m);
      throw err;
    }
  }

  get unlocked(): boolean {
    return this.#unlocked;
  }

  /** whether CALLVAULT_KMS names a pin-source or pin-value, so unlock('') needs no one at a keyboard */
  get pinConfigured(): boolean {
    return this.config.pinSource !== undefined;
  }

  async list(): Promise<ControllerKey[]> {
    const entries = this.#entries();
    const status = statuses(entries);
    return entries.map((e) => publicPart(e, status.get(e.keyId)!));
  }

  async activeKey(controllerId: string): Promise<ControllerKey> {
    const key = (await this.list()).find((k) => k.controllerId === controllerId && k.status === 'active');
    if (!key) throw new CallvaultError(ErrorCodes.KEY_NOT_FOUND, `controller ${controllerId} has no active key`);
    return key;
  }

  /**
   * Logs in to the token. The PIN is `passphrase` when it is not empty; with an empty one, the
   * PIN the URL's pin-source (or pin-value) gives. A wrong PIN is CV_WRONG_PASSPHRASE. Then every
   * entry is checked (CV_KEYRING_INVALID if one was altered) before the provider counts as unlocked.
   */
  async unlock(passphrase: string): Promise<void> {
    this.#module();
    const pin = await this.#resolvePin(passphrase);
    this.#logIn(pin);
    if (this.#unlocked) return;
    try {
      this.#installation();
      for (const entry of this.#readEntries()) this.#verify(entry);
    } catch (err) {
      this.#forget();
      this.#releaseLogin();
      throw err;
    }
    this.#unlocked = true;
    this.#login.holders.add(this);
  }

  async generate(controllerId: string, scope?: string): Promise<ControllerKey> {
    this.#requireUnlocked();
    const { lib, pkcs11 } = this.#module();
    // a scoped key retires nothing; a new controller key retires the controller's previous ones
    const previous = scope ? [] : this.#entries().filter((e) => e.controllerId === controllerId && !e.retired && !e.scope);
    const keyId = randomUUID();
    const createdAt = new Date().toISOString();
    const id = Buffer.from(keyId, 'latin1');
    const keyLabel = this.#label(`key/${controllerId}/${keyId}`);
    const pair = pkcs11.C_GenerateKeyPair(
      this.#session,
      { mechanism: lib.CKM_EC_KEY_PAIR_GEN },
      [
        { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
        { type: lib.CKA_KEY_TYPE, value: lib.CKK_EC },
        { type: lib.CKA_EC_PARAMS, value: P256_PARAMS },
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_PRIVATE, value: false },
        { type: lib.CKA_VERIFY, value: false },
        { type: lib.CKA_DERIVE, value: false },
        { type: lib.CKA_LABEL, value: keyLabel },
        { type: lib.CKA_ID, value: id },
      ],
      [
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_KEY_TYPE, value: lib.CKK_EC },
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_PRIVATE, value: true },
        { type: lib.CKA_SENSITIVE, value: true },
        { type: lib.CKA_EXTRACTABLE, value: false },
        { type: lib.CKA_DERIVE, value: true },
        { type: lib.CKA_SIGN, value: false },
        { type: lib.CKA_LABEL, value: keyLabel },
        { type: lib.CKA_ID, value: id },
      ],
    );
    let entry: Entry;
    try {
      const publicKey = this.#publicPoint(pair.publicKey);
      if (!publicKey) throw new CallvaultError(ErrorCodes.KEYRING_INVALID, 'the token made a key pair whose public key is not a P-256 point');
      const fields = { keyId, controllerId, suite: SUITE_NAME, createdAt, publicKey, retired: false, ...(scope ? { scope } : {}) };
      entry = { ...fields, mac: hmacInToken(this.#module(), this.#session, this.#installation(), entryMessage(fields)) };
      this.#createData(this.#label(`entry/${keyId}`), {
        format: ENTRY_FORMAT,
        keyId,
        controllerId,
        suite: SUITE_NAME,
        createdAt,
        ...(scope ? { scope } : {}),
        mac: entry.mac.toString('base64'),
      });
    } catch (err) {
      for (const h of [pair.publicKey, pair.privateKey]) {
        try {
          pkcs11.C_DestroyObject(this.#session, h);
        } catch {
          // nothing refers to an orphaned key pair: it is only litter
        }
      }
      throw err;
    }
    // retire after the new key exists: an interruption leaves two unretired keys, and the newest counts as active
    for (const old of previous) {
      this.#createData(this.#label(`retired/${old.keyId}`), { format: RETIRED_FORMAT, keyId: old.keyId, retiredAt: createdAt });
    }
    this.#privateKeys.set(keyId, pair.privateKey);
    this.#verified.set(keyId, { fingerprint: fingerprint(entry), entry });
    return publicPart(entry, 'active');
  }

  async destroy(keyId: string): Promise<void> {
    this.#requireUnlocked();
    const { lib, pkcs11 } = this.#module();
    const entry = this.#entries().find((e) => e.keyId === keyId);
    if (!entry) return;
    if (!entry.scope) throw new CallvaultError(ErrorCodes.INVALID_REQUEST, "a controller's own key is never destroyed");
    // the private key first: once it is gone nothing can unwrap, whatever else an interruption leaves
    for (const cls of [lib.CKO_PRIVATE_KEY, lib.CKO_PUBLIC_KEY]) for (const h of this.#findKeyObjects(cls, keyId)) pkcs11.C_DestroyObject(this.#session, h);
    this.#createData(this.#label(`destroyed/${keyId}`), {
      format: DESTROYED_FORMAT,
      keyId,
      controllerId: entry.controllerId,
      scope: entry.scope,
      destroyedAt: new Date().toISOString(),
    });
    for (const h of this.#findData(this.#label(`entry/${keyId}`))) pkcs11.C_DestroyObject(this.#session, h);
    this.#privateKeys.delete(keyId);
    this.#verified.delete(keyId);
  }

  async destroyedKeys(): Promise<string[]> {
    const { lib, pkcs11 } = this.#module();
    const prefix = this.#label('destroyed/');
    const all = findAll(pkcs11, this.#session, [
      { type: lib.CKA_CLASS, value: lib.CKO_DATA },
      { type: lib.CKA_APPLICATION, value: APPLICATION },
    ]);
    const ids: string[] = [];
    for (const h of all) {
      const label = this.#attr(h, lib.CKA_LABEL).toString('utf8');
      if (label.startsWith(prefix)) ids.push(label.slice(prefix.length));
    }
    return ids;
  }

  async unwrap(keyId: string, wrapped: Buffer, info: Buffer): Promise<Buffer> {
    this.#requireUnlocked();
    const entry = this.#verified.get(keyId)?.entry ?? this.#entries().find((e) => e.keyId === keyId);
    if (!entry) throw new CallvaultError(ErrorCodes.KEY_NOT_FOUND, `key ${keyId} is not in this keyring`);
    if (wrapped.length !== WRAPPED_KEY_SIZE) throw decryptionFailed();
    const enc = Buffer.from(wrapped.subarray(0, N_ENC));
    // checked here so a bad point is a decryption failure, never a token error (nor an invalid-curve query)
    if (!isP256Point(enc)) throw decryptionFailed();
    const dh = ecdhInToken(this.#module(), this.#session, this.#privateKey(keyId), enc);
    try {
      return openBaseWithDh({ dh, enc, pkRm: entry.publicKey, info, ciphertext: wrapped.subarray(N_ENC) });
    } catch {
      throw decryptionFailed();
    } finally {
      dh.fill(0);
    }
  }

  /** HMAC-SHA256(installation key, "callvault/derived-secret/v1\n" ‖ purpose), computed in the token; cached while unlocked */
  derivedSecret(purpose: string): Buffer {
    this.#requireUnlocked();
    let secret = this.#derived.get(purpose);
    if (!secret) {
      secret = hmacInToken(this.#module(), this.#session, this.#installation(), Buffer.from(`callvault/derived-secret/v1\n${purpose}`, 'utf8'));
      this.#derived.set(purpose, secret);
    }
    return Buffer.from(secret);
  }

  /** Forgets the cached secrets and handles; the token logs out when no other provider of this process is unlocked. */
  lock(): void {
    if (!this.#m) return;
    this.#forget();
    if (this.#unlocked) {
      this.#unlocked = false;
      this.#releaseLogin();
    }
  }

  /** Locks, closes the session and, with the last provider of the process, finalises the module. Idempotent. */
  async close(): Promise<void> {
    const m = this.#m;
    if (!m) return;
    this.lock();
    this.#m = null;
    try {
      m.pkcs11.C_CloseSession(this.#session);
    } catch {
      // a session the token dropped already
    } finally {
      releaseModule(m);
    }
  }

  // —— login ——

  async #resolvePin(passphrase: string): Promise<string> {
    if (passphrase !== '') return passphrase;
    if (this.config.pinSource) return readPin(this.config.pinSource, this.#pinEnvironment);
    throw new CallvaultError(ErrorCodes.PASSPHRASE_REQUIRED, 'the token PIN is needed: give it as the passphrase, or name a pin-source in CALLVAULT_KMS');
  }

  #logIn(pin: string): void {
    const { lib, pkcs11 } = this.#module();
    const t = this.#login;
    if (t.loggedIn) {
      // logged in by another provider of this process: the login is per process, so check the PIN against that one
      if (t.verifier && sameVerifier(t.verifier, pinVerifier(pin))) return;
      throw wrongPin();
    }
    try {
      pkcs11.C_Login(this.#session, lib.CKU_USER, pin);
    } catch (err) {
      if (ckr(err) !== lib.CKR_USER_ALREADY_LOGGED_IN) throw loginFailed(err, lib);
      // logged in by someone outside this module: log in again, so that this PIN is the one checked
      try {
        pkcs11.C_Logout(this.#session);
        pkcs11.C_Login(this.#session, lib.CKU_USER, pin);
      } catch (again) {
        throw loginFailed(again, lib);
      }
    }
    t.loggedIn = true;
    t.verifier = pinVerifier(pin);
  }

  #releaseLogin(): void {
    const t = this.#login;
    t.holders.delete(this);
    if (t.holders.size > 0 || !t.loggedIn) return;
    t.loggedIn = false;
    t.verifier = null;
    try {
      this.#module().pkcs11.C_Logout(this.#session);
    } catch {
      // not logged in any more (the token was reset or removed)
    }
  }

  #forget(): void {
    for (const s of this.#derived.values()) s.fill(0);
    this.#derived.clear();
    this.#verified.clear();
    this.#privateKeys.clear();
    this.#installationKey = null;
  }

  #module(): LoadedModule {
    if (!this.#m) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'the HSM key provider is closed');
    return this.#m;
  }

  #requireUnlocked(): void {
    this.#module();
    if (!this.#unlocked) throw new CallvaultError(ErrorCodes.KEYS_LOCKED, 'the HSM keyring is locked: the token PIN is needed');
  }

  // —— objects ——

  #label(name: string): string {
    return `${this.config.objectPrefix}/${name}`;
  }

  #findData(label: string): Handle[] {
    const { lib, pkcs11 } = this.#module();
    return findAll(pkcs11, this.#session, [
      { type: lib.CKA_CLASS, value: lib.CKO_DATA },
      { type: lib.CKA_APPLICATION, value: APPLICATION },
      { type: lib.CKA_LABEL, value: label },
    ]);
  }

  #createData(label: string, value: object): void {
    const { lib, pkcs11 } = this.#module();
    pkcs11.C_CreateObject(this.#session, [
      { type: lib.CKA_CLASS, value: lib.CKO_DATA },
      { type: lib.CKA_TOKEN, value: true },
      { type: lib.CKA_PRIVATE, value: false },
      { type: lib.CKA_MODIFIABLE, value: false },
      { type: lib.CKA_APPLICATION, value: APPLICATION },
      { type: lib.CKA_LABEL, value: label },
      { type: lib.CKA_VALUE, value: Buffer.from(JSON.stringify(value), 'utf8') },
    ]);
  }

  /** objects of one class whose CKA_ID is the key id and whose label is under this keyring's prefix */
  #findKeyObjects(cls: number, keyId: string): Handle[] {
    const { lib, pkcs11 } = this.#module();
    const prefix = this.#label('key/');
    return findAll(pkcs11, this.#session, [
      { type: lib.CKA_CLASS, value: cls },
      { type: lib.CKA_ID, value: Buffer.from(keyId, 'latin1') },
    ]).filter((h) => this.#attr(h, lib.CKA_LABEL).toString('utf8').startsWith(prefix));
  }

  #findInstallationKeys(): Handle[] {
    const { lib, pkcs11 } = this.#module();
    return findAll(pkcs11, this.#session, [
      { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
      { type: lib.CKA_LABEL, value: this.#label('installation') },
    ]);
  }

  #attr(h: Handle, type: number): Buffer {
    const [a] = this.#module().pkcs11.C_GetAttributeValue(this.#session, h, [{ type }]);
    return a!.value;
  }

  #bool(h: Handle, type: number): boolean {
    const v = this.#attr(h, type);
    return v.length === 1 && v[0] === 1;
  }

  #publicPoint(h: Handle): Buffer | undefined {
    const point = unwrapEcPoint(this.#attr(h, this.#module().lib.CKA_EC_POINT));
    return point && isP256Point(point) ? point : undefined;
  }

  #installation(): Handle {
    if (this.#installationKey) return this.#installationKey;
    const { lib } = this.#module();
    const found = this.#findInstallationKeys();
    if (found.length !== 1) throw invalid(found.length === 0 ? 'the installation key is missing from the token' : 'the token holds more than one installation key');
    const h = found[0]!;
    if (!this.#bool(h, lib.CKA_SENSITIVE) || this.#bool(h, lib.CKA_EXTRACTABLE)) throw invalid('the installation key on the token is extractable');
    this.#installationKey = h;
    return h;
  }

  #privateKey(keyId: string): Handle {
    const cached = this.#privateKeys.get(keyId);
    if (cached) return cached;
    const { lib } = this.#module();
    const found = this.#findKeyObjects(lib.CKO_PRIVATE_KEY, keyId);
    if (found.length !== 1) throw invalid(`key ${keyId} has ${found.length === 0 ? 'no' : 'more than one'} private key on the token`);
    const h = found[0]!;
    if (!this.#bool(h, lib.CKA_SENSITIVE) || this.#bool(h, lib.CKA_EXTRACTABLE) || !this.#bool(h, lib.CKA_DERIVE)) {
      throw invalid(`the private key of ${keyId} is extractable or cannot derive`);
    }
    this.#privateKeys.set(keyId, h);
    return h;
  }

  // —— entries ——

  /** the keyring's entries as stored; while unlocked, each one checked */
  #entries(): Entry[] {
    const entries = this.#readEntries();
    if (this.#unlocked) for (const e of entries) this.#verify(e);
    return entries;
  }

  #readEntries(): Entry[] {
    const { lib, pkcs11 } = this.#module();
    const entryPrefix = this.#label('entry/');
    const retiredPrefix = this.#label('retired/');
    const retired = new Set<string>();
    const stored: { label: string; value: Buffer }[] = [];
    const all = findAll(pkcs11, this.#session, [
      { type: lib.CKA_CLASS, value: lib.CKO_DATA },
      { type: lib.CKA_APPLICATION, value: APPLICATION },
    ]);
    for (const h of all) {
      const [label, value] = pkcs11.C_GetAttributeValue(this.#session, h, [{ type: lib.CKA_LABEL }, { type: lib.CKA_VALUE }]);
      const text = label!.value.toString('utf8');
      if (text.startsWith(retiredPrefix)) retired.add(text.slice(retiredPrefix.length));
      else if (text.startsWith(entryPrefix)) stored.push({ label: text, value: value!.value });
    }
    const entries = stored.map(({ label, value }): Entry | undefined => {
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw invalid(`the entry ${label} is not valid JSON`);
      }
      const { format, keyId, controllerId, suite, createdAt, mac, scope } = json;
      if (
        format !== ENTRY_FORMAT ||
        typeof keyId !== 'string' ||
        label !== entryPrefix + keyId ||
        typeof controllerId !== 'string' ||
        suite !== SUITE_NAME ||
        typeof createdAt !== 'string' ||
        typeof mac !== 'string' ||
        (scope !== undefined && typeof scope !== 'string')
      ) {
        throw invalid(`the entry ${label} is damaged`);
      }
      const publics = this.#findKeyObjects(lib.CKO_PUBLIC_KEY, keyId);
      // a destroy interrupted after the key objects went: the entry is litter, the key is gone
      if (publics.length === 0 && typeof scope === 'string') return undefined;
      if (publics.length !== 1) throw invalid(`key ${keyId} has ${publics.length === 0 ? 'no' : 'more than one'} public key on the token`);
      const publicKey = this.#publicPoint(publics[0]!);
      if (!publicKey) throw invalid(`the public key of ${keyId} is not a P-256 point`);
      return { keyId, controllerId, suite, createdAt, mac: Buffer.from(mac, 'base64'), publicKey, retired: retired.has(keyId), ...(typeof scope === 'string' ? { scope } : {}) };
    });
    return entries.filter((e) => e !== undefined).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.keyId < b.keyId ? -1 : 1));
  }

  /** the MAC (in the token) and that the private key belongs to the public key: ECDH with the base point gives x(Q) */
  #verify(e: Entry): void {
    const fp = fingerprint(e);
    if (this.#verified.get(e.keyId)?.fingerprint === fp) return;
    const m = this.#module();
    const expected = hmacInToken(m, this.#session, this.#installation(), entryMessage(e));
    if (!sameVerifier(expected, e.mac)) throw invalid(`the entry of key ${e.keyId} does not authenticate: the keyring on the token was altered`);
    const x = ecdhInToken(m, this.#session, this.#privateKey(e.keyId), P256_GENERATOR);
    try {
      if (!timingSafeEqual(x, e.publicKey.subarray(1, 33))) throw invalid(`the private key of ${e.keyId} does not match its public key`);
    } finally {
      x.fill(0);
    }
    this.#verified.set(e.keyId, { fingerprint: fp, entry: e });
  }
}

/**
 * `callvault init` with CALLVAULT_KMS=pkcs11:…: the keyring (installation key and marker) and
 * the first controller key pair on an initialised token. Returns the provider, unlocked.
 */
export async function createPkcs11Keyring(
  url: string,
  pin: string,
  controllerId: string,
  pinEnvironment: PinEnvironment = {},
): Promise<{ keys: Pkcs11KeyProvider; key: ControllerKey }> {
  const keys = await Pkcs11KeyProvider.create(url, pin, pinEnvironment);
  try {
    return { keys, key: await keys.generate(controllerId) };
  } catch (err) {
    await keys.close();
    throw err;
  }
}

/** the statuses as reported: of a controller's unretired keys only the newest is active (an interrupted rotation leaves two) */
function statuses(entries: Entry[]): Map<string, 'active' | 'retired'> {
  const out = new Map<string, 'active' | 'retired'>();
  const newest = new Map<string, Entry>();
  for (const e of entries) {
    // a scoped key is never retired nor the active one: it covers its scope until destroyed
    out.set(e.keyId, e.scope ? 'active' : 'retired');
    if (!e.retired && !e.scope) newest.set(e.controllerId, e); // entries are sorted oldest first
  }
  for (const e of newest.values()) out.set(e.keyId, 'active');
  return out;
}

function publicPart(e: Entry, status: 'active' | 'retired'): ControllerKey {
  return { keyId: e.keyId, controllerId: e.controllerId, publicKey: Buffer.from(e.publicKey), status, createdAt: e.createdAt, scope: e.scope ?? null };
}

/** what an entry's MAC covers; not the status, so retiring appends a marker and re-MACs nothing */
function entryMessage(e: Omit<Entry, 'mac' | 'retired'>): Buffer {
  const scope = e.scope ? `\nscope\n${e.scope}` : '';
  return Buffer.from(`callvault/key-entry/v1\n${e.keyId}\n${e.controllerId}\n${e.suite}\n${e.publicKey.toString('base64')}\n${e.createdAt}${scope}`, 'utf8');
}

function fingerprint(e: Entry): string {
  return createHash('sha256').update(entryMessage(e)).update(e.mac).digest('hex');
}

function slotNumber(slot: Handle): bigint {
  return slot.length >= 8 ? slot.readBigUInt64LE(0) : BigInt(slot.readUInt32LE(0));
}

function invalid(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.KEYRING_INVALID, message);
}

function wrongPin(): CallvaultError {
  return new CallvaultError(ErrorCodes.WRONG_PASSPHRASE, 'the PIN does not unlock the token');
}

/** never carries the native error as cause: nothing of a login attempt goes further than its CKR_ name */
function loginFailed(err: unknown, lib: LoadedModule['lib']): CallvaultError {
  switch (ckr(err)) {
    case lib.CKR_PIN_INCORRECT:
    case lib.CKR_PIN_LEN_RANGE:
    case lib.CKR_PIN_INVALID:
      return wrongPin();
    case lib.CKR_PIN_LOCKED:
      return new CallvaultError(ErrorCodes.WRONG_PASSPHRASE, "the token's user PIN is locked after too many wrong attempts: its security officer must unblock it");
    case lib.CKR_PIN_EXPIRED:
      return new CallvaultError(ErrorCodes.WRONG_PASSPHRASE, "the token's user PIN has expired: set a new one with the token's tools");
    default:
      return new CallvaultError(ErrorCodes.KEYS_LOCKED, `the token refused the login (${ckrName(err)})`);
  }
}
