/**
 * The error catalogue. Every error callvault reports carries a stable code, grouped by area.
 * Messages never contain secrets, key material or personal identifiers.
 */
/**
 * Each error: its code, the HTTP status an answer carrying it gets, and what it means (listed in
 * docs/errors.md, checked by test/errors.test.ts). 500 marks what no client can cause or fix:
 * the answer then says "internal error" and nothing else.
 */
export const ERRORS = {
  // container format (docs/format.md): one opaque code for every way a ciphertext can be wrong
  DECRYPTION_FAILED: { code: 'CV_DECRYPTION_FAILED', status: 500, meaning: 'a ciphertext, wrapped key or sealed field did not authenticate; the message never says why' },
  UNSUPPORTED_CONTAINER: { code: 'CV_UNSUPPORTED_CONTAINER', status: 500, meaning: 'a stored object is not a container of a version this callvault reads' },
  RANGE_NOT_SATISFIABLE: { code: 'CV_RANGE_NOT_SATISFIABLE', status: 416, meaning: 'the byte range asked for lies outside the recording' },
  // keys (docs/keys.md)
  WRONG_PASSPHRASE: { code: 'CV_WRONG_PASSPHRASE', status: 500, meaning: 'the passphrase (or HSM PIN) does not open the keyring' },
  PASSPHRASE_REQUIRED: { code: 'CV_PASSPHRASE_REQUIRED', status: 500, meaning: "the command needs the custodian's passphrase: set CALLVAULT_PASSPHRASE or run it on a terminal" },
  KEYRING_INVALID: { code: 'CV_KEYRING_INVALID', status: 500, meaning: 'the keyring file is damaged or not a callvault keyring' },
  KEY_NOT_FOUND: { code: 'CV_KEY_NOT_FOUND', status: 500, meaning: 'a recording names a key the keyring does not hold' },
  KEYS_LOCKED: { code: 'CV_KEYS_LOCKED', status: 503, meaning: 'the private keys are not unlocked in this process' },
  // data directory and storage
  NOT_INITIALISED: { code: 'CV_NOT_INITIALISED', status: 500, meaning: 'the data directory is not a callvault data directory: run `callvault init`' },
  ALREADY_INITIALISED: { code: 'CV_ALREADY_INITIALISED', status: 500, meaning: '`init` found a data directory or keyring already there' },
  BLOB_NOT_FOUND: { code: 'CV_BLOB_NOT_FOUND', status: 500, meaning: "a recording's encrypted object is missing from the object store" },
  STORAGE_FAILED: { code: 'CV_STORAGE_FAILED', status: 500, meaning: 'the object store refused a write or read for a reason other than being unavailable' },
  STORAGE_UNAVAILABLE: { code: 'CV_STORAGE_UNAVAILABLE', status: 503, meaning: 'the object store cannot be reached, fails, or its disk is full: try again later' },
  DATABASE_UNAVAILABLE: {
    code: 'CV_DATABASE_UNAVAILABLE',
    status: 503,
    meaning: 'the metadata database cannot be reached, does not answer in time, or its disk is full: try again later',
  },
  NOT_READY: { code: 'CV_NOT_READY', status: 503, meaning: 'GET /readyz: a dependency is down; the answer names which, and nothing more' },
  // metadata
  NOT_FOUND: { code: 'CV_NOT_FOUND', status: 404, meaning: 'no such thing, or not one the caller may know of' },
  CONTROLLER_UNKNOWN: { code: 'CV_CONTROLLER_UNKNOWN', status: 404, meaning: 'no controller with that id' },
  INVALID_METADATA: { code: 'CV_INVALID_METADATA', status: 400, meaning: "a recording's metadata (sidecar, CSV row or upload field) is not valid" },
  // audio
  UNSUPPORTED_AUDIO: { code: 'CV_UNSUPPORTED_AUDIO', status: 415, meaning: 'the file is not audio in a format callvault stores' },
  BROKEN_AUDIO: { code: 'CV_BROKEN_AUDIO', status: 422, meaning: 'the audio is truncated or its header contradicts its content' },
  // integrity
  INTEGRITY_MISMATCH: { code: 'CV_INTEGRITY_MISMATCH', status: 422, meaning: 'a stored object or an upload does not match its recorded hash or size' },
  // audit log
  AUDIT_UNAVAILABLE: { code: 'CV_AUDIT_UNAVAILABLE', status: 503, meaning: 'the audit log cannot be written, so nothing is served or changed' },
  AUDIT_INCONSISTENT: { code: 'CV_AUDIT_INCONSISTENT', status: 409, meaning: 'the stored log does not match what was signed: someone changed it' },
  AUDIT_SIGNING_KEY: { code: 'CV_AUDIT_SIGNING_KEY', status: 500, meaning: 'the checkpoint signing key is missing or unreadable' },
  WITNESS_FAILED: { code: 'CV_WITNESS_FAILED', status: 500, meaning: 'a witness named by CALLVAULT_AUDIT_WITNESS did not take the checkpoint' },
  // identifiers and redaction (docs/redaction.md)
  REDACTION_FAILED: {
    code: 'CV_REDACTION_FAILED',
    status: 500,
    meaning: 'a redacted rendition could not be made; the call is flagged and kept from those who may hear only redacted audio',
  },
  REDACTION_UNAVAILABLE: {
    code: 'CV_REDACTION_UNAVAILABLE',
    status: 409,
    meaning: 'no redacted rendition exists (no transcript, or redaction failed): only the original, for roles allowed to hear it',
  },
  // identities and access
  UNAUTHENTICATED: { code: 'CV_UNAUTHENTICATED', status: 401, meaning: 'no valid session or token: sign in' },
  SIGNIN_FAILED: { code: 'CV_SIGNIN_FAILED', status: 401, meaning: 'the username, password or code is wrong (which one is not said)' },
  TOTP_ENROLMENT_REQUIRED: { code: 'CV_TOTP_ENROLMENT_REQUIRED', status: 401, meaning: 'the first sign-in: enrol the authenticator with the secret in the answer' },
  PASSWORD_CHANGE_REQUIRED: { code: 'CV_PASSWORD_CHANGE_REQUIRED', status: 401, meaning: 'the one-time password must be replaced before anything else' },
  WEAK_PASSWORD: {
    code: 'CV_WEAK_PASSWORD',
    status: 400,
    meaning: "the new password, or the key custodian's new passphrase (`callvault init`, exit 2), is too short or too easy to guess",
  },
  APPROVAL_PENDING: {
    code: 'CV_APPROVAL_PENDING',
    status: 403,
    meaning: 'the account waits for a second person to approve it (four-eyes) or was refused: it can do nothing yet',
  },
  PAST_RETENTION: {
    code: 'CV_PAST_RETENTION',
    status: 422,
    meaning: 'the call is already past its retention and no legal hold covers it: it is not stored',
  },
  SHREDDED: {
    code: 'CV_SHREDDED',
    status: 410,
    meaning: "the recording passed its retention and was shredded: its period's key is destroyed, nothing of it can be read (a tombstone says when)",
  },
  CSRF: { code: 'CV_CSRF', status: 403, meaning: 'the X-CSRF-Token header is missing or wrong' },
  FORBIDDEN: { code: 'CV_FORBIDDEN', status: 403, meaning: "the caller's role, token scope or contract does not allow this" },
  TOKEN_LIMITS: {
    code: 'CV_TOKEN_LIMITS',
    status: 403,
    meaning: 'the ingest token is limited to some regions or agents, and the upload names another, or none',
  },
  PURPOSE_REQUIRED: { code: 'CV_PURPOSE_REQUIRED', status: 400, meaning: 'state a purpose of use first' },
  INVALID_REQUEST: { code: 'CV_INVALID_REQUEST', status: 400, meaning: 'the request is malformed or a value is out of range' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'CV_UNSUPPORTED_MEDIA_TYPE', status: 415, meaning: 'the route does not take this content type' },
  CONFLICT: { code: 'CV_CONFLICT', status: 409, meaning: 'the change conflicts with what exists (a name taken, a state already reached)' },
  RATE_LIMITED: { code: 'CV_RATE_LIMITED', status: 429, meaning: 'too many requests from this address: wait and try again' },
  // command line
  USAGE: { code: 'CV_USAGE', status: 400, meaning: 'the command line is wrong (exit code 2)' },
  INTERNAL: { code: 'CV_INTERNAL', status: 500, meaning: 'a failure callvault did not anticipate; the message names its kind only, CALLVAULT_DEBUG=1 shows the rest' },
  // transcripts
  INVALID_TRANSCRIPT: { code: 'CV_INVALID_TRANSCRIPT', status: 422, meaning: 'a transcript (WebVTT, SRT or JSON) cannot be read; the message names a line or cue, never its text' },
  TRANSCRIPTION_FAILED: {
    code: 'CV_TRANSCRIPTION_FAILED',
    status: 500,
    meaning: 'the speech-to-text service failed or answered with an error; the message carries its HTTP status only',
  },
  // live recording (docs/siprec.md)
  SIPREC_INVALID: {
    code: 'CV_SIPREC_INVALID',
    status: 400,
    meaning: "a SIPREC body (multipart, SDP or RFC 7865 metadata) cannot be read; the message names the part and the fault, never the body's text",
  },
} as const satisfies Record<string, { code: `CV_${string}`; status: number; meaning: string }>;

type ErrorName = keyof typeof ERRORS;

/** name → code, e.g. `ErrorCodes.FORBIDDEN === 'CV_FORBIDDEN'` */
export const ErrorCodes = Object.fromEntries(Object.entries(ERRORS).map(([name, e]) => [name, e.code])) as { readonly [N in ErrorName]: (typeof ERRORS)[N]['code'] };

export type ErrorCode = (typeof ERRORS)[ErrorName]['code'];

const BY_CODE = new Map<string, { status: number; meaning: string }>(Object.values(ERRORS).map((e) => [e.code, e]));

/** the HTTP status of an answer carrying `code` */
export function httpStatus(code: ErrorCode): number {
  return BY_CODE.get(code)!.status;
}

/** every error, for docs/errors.md and the web UI's messages */
export function errorCatalogue(): { code: ErrorCode; status: number; meaning: string }[] {
  return Object.values(ERRORS).map((e) => ({ ...e }));
}

export class CallvaultError extends Error {
  override readonly name = 'CallvaultError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The single error for any ciphertext that does not authenticate: it says nothing about why. */
export function decryptionFailed(): CallvaultError {
  return new CallvaultError(ErrorCodes.DECRYPTION_FAILED, 'decryption failed');
}

export function isCallvaultError(err: unknown, code?: ErrorCode): err is CallvaultError {
  return err instanceof CallvaultError && (code === undefined || err.code === code);
}

/** the database's error codes (PostgreSQL SQLSTATE classes, SQLite result codes) that mean "down, full or too slow", not "wrong" */
const DATABASE_DOWN = /^(08|53|57P0|57014)|^SQLITE_(FULL|BUSY|LOCKED|IOERR|CANTOPEN|READONLY|PROTOCOL)/;
const DATABASE_DOWN_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection closed|the database connection is not open/i;
const NETWORK_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/**
 * The error to answer with when `err` says a dependency is down, full or not answering in time:
 * callers should try again later (HTTP 503 with Retry-After). Undefined for any other error.
 * Errors the object store's adapter raises are classified there already.
 */
export function unavailableError(err: unknown): CallvaultError | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (isCallvaultError(e)) return undefined;
    const code = String((e as { code?: unknown }).code ?? '');
    const message = String((e as { message?: unknown }).message ?? '');
    if (DISK_FULL.has(code)) return new CallvaultError(ErrorCodes.STORAGE_UNAVAILABLE, 'the disk is full: nothing was stored; try again later', { cause: e });
    if (DATABASE_DOWN.test(code) || DATABASE_DOWN_MESSAGE.test(message) || NETWORK_DOWN.has(code)) {
      return new CallvaultError(
        ErrorCodes.DATABASE_UNAVAILABLE,
        code === 'SQLITE_FULL' || code === '53100' ? 'the database disk is full; try again later' : 'the metadata database is not available; try again later',
        { cause: e },
      );
    }
  }
  return undefined;
}
