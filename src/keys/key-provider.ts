/**
 * The contract every key provider implements (the local keyfile now, PKCS#11 later).
 * Public halves are readable without unlocking, so an importer can encrypt and nothing more.
 */
export interface ControllerKey {
  keyId: string;
  controllerId: string;
  /** uncompressed P-256 point, 65 bytes */
  publicKey: Buffer;
  status: 'active' | 'retired';
  createdAt: string;
  /**
   * null: the controller's own key pair, which new recordings are wrapped to when no narrower key
   * covers them. Otherwise what the key covers (docs/keys.md §7): `period/CLASS/YYYY-MM`, one
   * retention class and one month of call time, destroyed when that month passes retention; or
   * `hold/HOLD-ID`, the recordings a legal hold keeps. A scoped key is never the active one.
   */
  scope: string | null;
}

export interface KeyProvider {
  readonly kind: string;
  readonly unlocked: boolean;
  list(): Promise<ControllerKey[]>;
  /** the key new recordings of this controller are wrapped to */
  activeKey(controllerId: string): Promise<ControllerKey>;
  unlock(passphrase: string): Promise<void>;
  /**
   * A new key pair for the controller. Without a scope it becomes active and the previous one
   * retires; with one it covers that scope only and retires nothing.
   */
  generate(controllerId: string, scope?: string): Promise<ControllerKey>;
  /**
   * Destroys a scoped key: its private half is gone from the keyring (or the token) for good,
   * and every data key wrapped to it with it, in every backup of the database. A controller's
   * own key is never destroyed (CV_INVALID_REQUEST). Needs the keyring unlocked.
   */
  destroy(keyId: string): Promise<void>;
  /**
   * The ids of keys destroyed here, kept with the keyring (not the database): a database restored
   * from a backup older than a destruction still names them, and retention turns its recordings
   * into tombstones instead of listing what cannot be read.
   */
  destroyedKeys(): Promise<string[]>;
  /** HPKE-opens a wrapped data key with the named private key */
  unwrap(keyId: string, wrapped: Buffer, info: Buffer): Promise<Buffer>;
  /** a 32-byte key for one named purpose (blind indexes, keyed hashes), derived from the installation secret */
  derivedSecret(purpose: string): Buffer;
}
