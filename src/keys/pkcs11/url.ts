/**
 * CALLVAULT_KMS=pkcs11:… — a PKCS#11 URI in the style of RFC 7512, docs/keys.md §6.
 *
 *     pkcs11:token=callvault;object=callvault?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/hsm-pin
 *
 * Path attributes (`;`-separated): `token` (the token label, required), `object` (the prefix of
 * every object callvault keeps on the token, default `callvault`), and optionally `serial`,
 * `manufacturer`, `model`, `slot-id` to pick one token among several with the same label.
 * Query attributes (`&`-separated): `module-path` (absolute path of the PKCS#11 library,
 * required), and at most one of `pin-source` (`file:/path`, `/path` or `env:NAME`) and
 * `pin-value` (for tests). Values are percent-decoded. `x-…` (vendor) attributes are ignored; any
 * other attribute is refused, so a typo is not silently ignored.
 *
 * Error messages name attributes, never values: the URL may carry a PIN.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { CallvaultError, ErrorCodes } from '../../errors.js';

export type PinSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string }
  /** `value` is non-enumerable: JSON.stringify and util.inspect of the configuration leave it out */
  | { readonly kind: 'value'; readonly value: string };

export interface Pkcs11Config {
  modulePath: string;
  /** the token label (CKA_LABEL of the token, up to 32 bytes) */
  token: string;
  /** prefix of the labels of every object callvault keeps on the token */
  objectPrefix: string;
  pinSource?: PinSource;
  serial?: string;
  manufacturer?: string;
  model?: string;
  slotId?: bigint;
}

export const DEFAULT_OBJECT_PREFIX = 'callvault';
const OBJECT_PREFIX = /^[A-Za-z0-9._-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATH_ATTRS = new Set(['token', 'object', 'serial', 'manufacturer', 'model', 'slot-id']);
const QUERY_ATTRS = new Set(['module-path', 'pin-source', 'pin-value']);
/** RFC 7512 attributes that are valid in general but mean nothing for a whole keyring */
const UNSUPPORTED = new Set(['id', 'type', 'library-manufacturer', 'library-description', 'library-version', 'slot-description', 'slot-manufacturer', 'module-name']);

function usage(message: string): CallvaultError {
  return new CallvaultError(ErrorCodes.USAGE, `CALLVAULT_KMS: ${message}`);
}

function attributes(part: string, separator: string, where: 'path' | 'query'): Map<string, string> {
  const out = new Map<string, string>();
  if (part === '') return out;
  for (const item of part.split(separator)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usage(`a ${where} attribute of the pkcs11 URL has no name or no "="`);
    const name = item.slice(0, eq).toLowerCase();
    let value: string;
    try {
      value = decodeURIComponent(item.slice(eq + 1));
    } catch {
      throw usage(`the pkcs11 URL attribute ${name} is not valid percent-encoding`);
    }
    if (name.startsWith('x-')) continue;
    const known = where === 'path' ? PATH_ATTRS : QUERY_ATTRS;
    if (!known.has(name)) {
      if (UNSUPPORTED.has(name)) throw usage(`the pkcs11 URL attribute ${name} is not supported`);
      if (PATH_ATTRS.has(name)) throw usage(`${name} belongs in the path of the pkcs11 URL (before "?", separated by ";")`);
      if (QUERY_ATTRS.has(name)) throw usage(`${name} belongs in the query of the pkcs11 URL (after "?", separated by "&")`);
      throw usage(`unknown pkcs11 URL attribute ${name}`);
    }
    if (out.has(name)) throw usage(`the pkcs11 URL attribute ${name} appears twice`);
    out.set(name, value);
  }
  return out;
}

/** Parses CALLVAULT_KMS=pkcs11:…; every problem is a CV_USAGE error that never repeats a value. */
export function parsePkcs11Url(url: string): Pkcs11Config {
  if (!url.toLowerCase().startsWith('pkcs11:')) throw usage('a PKCS#11 URL starts with pkcs11:');
  const rest = url.slice('pkcs11:'.length);
  const q = rest.indexOf('?');
  const path = attributes(q < 0 ? rest : rest.slice(0, q), ';', 'path');
  const query = attributes(q < 0 ? '' : rest.slice(q + 1), '&', 'query');

  const token = path.get('token');
  if (!token) throw usage('the pkcs11 URL needs token=LABEL');
  if (Buffer.byteLength(token, 'utf8') > 32) throw usage('a token label is at most 32 bytes');
  const objectPrefix = path.get('object') ?? DEFAULT_OBJECT_PREFIX;
  if (!OBJECT_PREFIX.test(objectPrefix)) throw usage('object= must be 1 to 64 letters, digits, ".", "_" or "-"');
  const modulePath = query.get('module-path');
  if (!modulePath) throw usage('the pkcs11 URL needs ?module-path=/absolute/path/to/the/pkcs11/library.so');
  if (!isAbsolute(modulePath)) throw usage('module-path must be an absolute path');

  const config: Pkcs11Config = { modulePath, token, objectPrefix };
  for (const [attr, key] of [
    ['serial', 'serial'],
    ['manufacturer', 'manufacturer'],
    ['model', 'model'],
  ] as const) {
    const v = path.get(attr);
    if (v !== undefined) config[key] = v;
  }
  const slot = path.get('slot-id');
  if (slot !== undefined) {
    if (!/^\d{1,20}$/.test(slot)) throw usage('slot-id must be a decimal number');
    config.slotId = BigInt(slot);
  }

  const pinSource = query.get('pin-source');
  const pinValue = query.get('pin-value');
  if (pinSource !== undefined && pinValue !== undefined) throw usage('give pin-source or pin-value, not both');
  if (pinValue !== undefined) {
    if (pinValue === '') throw usage('pin-value is empty');
    const source = { kind: 'value' } as { kind: 'value'; value: string };
    Object.defineProperty(source, 'value', { value: pinValue, enumerable: false });
    config.pinSource = source;
  } else if (pinSource !== undefined) {
    config.pinSource = parsePinSource(pinSource);
  }
  return config;
}

function parsePinSource(s: string): PinSource {
  if (s.startsWith('env:')) {
    const name = s.slice(4);
    if (!ENV_NAME.test(name)) throw usage('pin-source=env:NAME needs an environment variable name');
    return { kind: 'env', name };
  }
  let path = s;
  if (s.startsWith('file://'))
    path = s.slice('file://'.length); // file:///run/x → /run/x
  else if (s.startsWith('file:')) path = s.slice('file:'.length);
  if (!isAbsolute(path)) throw usage('pin-source must be file:/absolute/path, /absolute/path or env:NAME');
  return { kind: 'file', path };
}

/** the environment a `pin-source=env:NAME` is read from: src/config.ts gives the one variable named */
export type PinEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Reads the PIN a pin-source names; `env:NAME` from `env`. A file's single trailing newline is
 * dropped. Errors name the file or variable, never its content.
 */
export async function readPin(source: PinSource, env: PinEnvironment = {}): Promise<string> {
  let pin: string | undefined;
  switch (source.kind) {
    case 'value':
      pin = source.value;
      break;
    case 'env':
      pin = env[source.name];
      if (pin === undefined) throw new CallvaultError(ErrorCodes.PASSPHRASE_REQUIRED, `the PIN variable ${source.name} named by pin-source is not set`);
      break;
    case 'file':
      try {
        pin = (await readFile(source.path, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new CallvaultError(ErrorCodes.PASSPHRASE_REQUIRED, `the PIN file ${source.path} named by pin-source cannot be read (${code})`);
      }
      break;
  }
  if (!pin) throw new CallvaultError(ErrorCodes.PASSPHRASE_REQUIRED, 'the PIN named by pin-source is empty');
  return pin;
}
