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
}

export interface KeyProvider {
  readonly kind: string;
  readonly unlocked: boolean;
  list(): Promise<ControllerKey[]>;
  /** the key new recordings of this controller are wrapped to */
  activeKey(controllerId: string): Promise<ControllerKey>;
  unlock(passphrase: string): Promise<void>;
  /** a new key pair for the controller; it becomes active and the previous one retires */
  generate(controllerId: string): Promise<ControllerKey>;
  /** HPKE-opens a wrapped data key with the named private key */
  unwrap(keyId: string, wrapped: Buffer, info: Buffer): Promise<Buffer>;
  /** a 32-byte key for one named purpose (blind indexes, keyed hashes), derived from the installation secret */
  derivedSecret(purpose: string): Buffer;
}
