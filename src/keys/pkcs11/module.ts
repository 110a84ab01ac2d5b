/**
 * One loaded PKCS#11 library per process and path. C_Initialize and the login state are
 * per process (per application, in PKCS#11 terms), not per session: every provider in the process
 * that uses the same module shares them, so the module is reference-counted and the login of each
 * token is tracked here. pkcs11js is loaded on first use, so a process that never uses an HSM does
 * not load the native module.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import type { ECDH1, Handle, PKCS11, Template } from 'pkcs11js';
import { CallvaultError, ErrorCodes } from '../../errors.js';

export type Pkcs11Lib = typeof import('pkcs11js');

/** the login state of one token, shared by every provider of the process that uses it */
export interface TokenLogin {
  loggedIn: boolean;
  /** HMAC of the PIN that logged in, under a random per-process key: a second provider must give the same PIN */
  verifier: Buffer | null;
  /** the unlocked providers: the token logs out when the last one locks or closes */
  readonly holders: Set<object>;
}

export interface LoadedModule {
  readonly path: string;
  readonly lib: Pkcs11Lib;
  readonly pkcs11: PKCS11;
  refs: number;
  /** false when the library was initialised already (by someone else in the process): then it is not finalised here */
  readonly ownsInit: boolean;
  readonly tokens: Map<string, TokenLogin>;
}

const modules = new Map<string, LoadedModule>();
const verifierKey = randomBytes(32);

export async function acquireModule(modulePath: string): Promise<LoadedModule> {
  const path = resolve(modulePath);
  const lib = ((await import('pkcs11js')) as unknown as { default: Pkcs11Lib }).default;
  const existing = modules.get(path);
  if (existing) {
    existing.refs += 1;
    return existing;
  }
  const pkcs11 = new lib.PKCS11();
  try {
    pkcs11.load(path);
  } catch (err) {
    throw new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_KMS: cannot load the PKCS#11 module ${path}`, { cause: err });
  }
  let ownsInit = true;
  try {
    pkcs11.C_Initialize();
  } catch (err) {
    if (ckr(err) !== lib.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      pkcs11.close();
      throw new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_KMS: the PKCS#11 module ${path} does not initialise (${ckrName(err)})`, { cause: err });
    }
    ownsInit = false;
  }
  const m: LoadedModule = { path, lib, pkcs11, refs: 1, ownsInit, tokens: new Map() };
  modules.set(path, m);
  return m;
}

export function releaseModule(m: LoadedModule): void {
  m.refs -= 1;
  if (m.refs > 0) return;
  modules.delete(m.path);
  try {
    if (m.ownsInit) m.pkcs11.C_Finalize();
  } finally {
    m.pkcs11.close();
  }
}

/** for tests: whether the library at this path is loaded and initialised by this process */
export function isModuleLoaded(modulePath: string): boolean {
  return modules.has(resolve(modulePath));
}

export function tokenLogin(m: LoadedModule, slot: Handle): TokenLogin {
  const key = slot.toString('hex');
  let t = m.tokens.get(key);
  if (!t) {
    t = { loggedIn: false, verifier: null, holders: new Set() };
    m.tokens.set(key, t);
  }
  return t;
}

export function pinVerifier(pin: string): Buffer {
  return createHmac('sha256', verifierKey).update(pin, 'utf8').digest();
}

export function sameVerifier(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** the CKR_… value of a pkcs11js error, or undefined */
export function ckr(err: unknown): number | undefined {
  const e = err as { name?: string; code?: unknown };
  return e && (e.name === 'Pkcs11Error' || e.name === 'NativeError') && typeof e.code === 'number' ? e.code : undefined;
}

/** CKR_… name of a pkcs11js error, for messages (the native message is exactly that name) */
export function ckrName(err: unknown): string {
  const m = (err as { message?: unknown })?.message;
  return typeof m === 'string' && /^CKR_[A-Z0-9_]+$/.test(m) ? m : 'error';
}

export function findAll(pkcs11: PKCS11, session: Handle, template: Template): Handle[] {
  pkcs11.C_FindObjectsInit(session, template);
  try {
    const out: Handle[] = [];
    for (;;) {
      const batch = pkcs11.C_FindObjects(session, 64);
      if (batch.length === 0) return out;
      out.push(...batch);
    }
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}

/** OID 1.2.840.10045.3.1.7 (prime256v1), DER: the CKA_EC_PARAMS of a P-256 key */
export const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** the P-256 base point, uncompressed: ECDH with it yields the x coordinate of the key's own public point */
export const P256_GENERATOR = Buffer.from(
  '046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
  'hex',
);

/**
 * CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (04 41 04 x y); some tokens
 * return the bare point. Returns the 65-byte point, or undefined for anything else.
 */
export function unwrapEcPoint(value: Buffer): Buffer | undefined {
  if (value.length === 67 && value[0] === 0x04 && value[1] === 0x41 && value[2] === 0x04) return Buffer.from(value.subarray(2));
  if (value.length === 65 && value[0] === 0x04) return Buffer.from(value);
  return undefined;
}

/**
 * ECDH in the token: C_DeriveKey(CKM_ECDH1_DERIVE, CKD_NULL) with the private key and a peer
 * point, into a session-only (CKA_TOKEN=false), extractable generic secret whose value is read and
 * the object destroyed at once. Returns x(d·P), 32 bytes, for the caller to zero.
 */
export function ecdhInToken(m: LoadedModule, session: Handle, privateKey: Handle, peerPoint: Buffer): Buffer {
  const { lib, pkcs11 } = m;
  const parameter: ECDH1 = { type: lib.CK_PARAMS_EC_DH, kdf: lib.CKD_NULL, publicData: peerPoint };
  const secret = pkcs11.C_DeriveKey(session, { mechanism: lib.CKM_ECDH1_DERIVE, parameter }, privateKey, [
    { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
    { type: lib.CKA_KEY_TYPE, value: lib.CKK_GENERIC_SECRET },
    { type: lib.CKA_TOKEN, value: false },
    { type: lib.CKA_PRIVATE, value: true },
    { type: lib.CKA_SENSITIVE, value: false },
    { type: lib.CKA_EXTRACTABLE, value: true },
    { type: lib.CKA_VALUE_LEN, value: 32 },
  ]);
  try {
    const [attr] = pkcs11.C_GetAttributeValue(session, secret, [{ type: lib.CKA_VALUE }]);
    if (attr?.value.length !== 32) {
      attr?.value.fill(0);
      throw new Error('the token returned a shared secret of the wrong length');
    }
    return attr.value;
  } finally {
    pkcs11.C_DestroyObject(session, secret);
  }
}

/** HMAC-SHA256 in the token (CKM_SHA256_HMAC, C_Sign) with a secret key that never leaves it */
export function hmacInToken(m: LoadedModule, session: Handle, key: Handle, data: Buffer): Buffer {
  m.pkcs11.C_SignInit(session, { mechanism: m.lib.CKM_SHA256_HMAC }, key);
  return m.pkcs11.C_Sign(session, data, Buffer.alloc(32));
}
