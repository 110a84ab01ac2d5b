/**
 * The error catalogue. Every error callvault reports carries a stable code, grouped by area.
 * Messages never contain secrets, key material or personal identifiers.
 */
export const ErrorCodes = {
  // container format (docs/format.md): one opaque code for every way a ciphertext can be wrong
  DECRYPTION_FAILED: 'CV_DECRYPTION_FAILED',
  UNSUPPORTED_CONTAINER: 'CV_UNSUPPORTED_CONTAINER',
  RANGE_NOT_SATISFIABLE: 'CV_RANGE_NOT_SATISFIABLE',
  // keys (docs/keys.md)
  WRONG_PASSPHRASE: 'CV_WRONG_PASSPHRASE',
  PASSPHRASE_REQUIRED: 'CV_PASSPHRASE_REQUIRED',
  KEYRING_INVALID: 'CV_KEYRING_INVALID',
  KEY_NOT_FOUND: 'CV_KEY_NOT_FOUND',
  KEYS_LOCKED: 'CV_KEYS_LOCKED',
  // data directory and storage
  NOT_INITIALISED: 'CV_NOT_INITIALISED',
  ALREADY_INITIALISED: 'CV_ALREADY_INITIALISED',
  BLOB_NOT_FOUND: 'CV_BLOB_NOT_FOUND',
  STORAGE_FAILED: 'CV_STORAGE_FAILED',
  /** the object store cannot be reached, fails, or its disk is full: try again later (503) */
  STORAGE_UNAVAILABLE: 'CV_STORAGE_UNAVAILABLE',
  /** the metadata database cannot be reached, does not answer in time, or its disk is full: try again later (503) */
  DATABASE_UNAVAILABLE: 'CV_DATABASE_UNAVAILABLE',
  /** GET /readyz: a dependency is down; the answer names which, and nothing more */
  NOT_READY: 'CV_NOT_READY',
  // metadata
  NOT_FOUND: 'CV_NOT_FOUND',
  CONTROLLER_UNKNOWN: 'CV_CONTROLLER_UNKNOWN',
  INVALID_METADATA: 'CV_INVALID_METADATA',
  // audio
  UNSUPPORTED_AUDIO: 'CV_UNSUPPORTED_AUDIO',
  BROKEN_AUDIO: 'CV_BROKEN_AUDIO',
  // integrity
  INTEGRITY_MISMATCH: 'CV_INTEGRITY_MISMATCH',
  // audit log
  AUDIT_UNAVAILABLE: 'CV_AUDIT_UNAVAILABLE',
  /** the stored log does not match what was signed: someone changed it */
  AUDIT_INCONSISTENT: 'CV_AUDIT_INCONSISTENT',
  AUDIT_SIGNING_KEY: 'CV_AUDIT_SIGNING_KEY',
  WITNESS_FAILED: 'CV_WITNESS_FAILED',
  // identifiers and redaction (docs/redaction.md)
  REDACTION_FAILED: 'CV_REDACTION_FAILED',
  /** the redacted rendition does not exist (no transcript, or redaction failed): only the original */
  REDACTION_UNAVAILABLE: 'CV_REDACTION_UNAVAILABLE',
  // identities and access (HTTP answers carry these codes)
  UNAUTHENTICATED: 'CV_UNAUTHENTICATED',
  SIGNIN_FAILED: 'CV_SIGNIN_FAILED',
  TOTP_ENROLMENT_REQUIRED: 'CV_TOTP_ENROLMENT_REQUIRED',
  PASSWORD_CHANGE_REQUIRED: 'CV_PASSWORD_CHANGE_REQUIRED',
  WEAK_PASSWORD: 'CV_WEAK_PASSWORD',
  CSRF: 'CV_CSRF',
  FORBIDDEN: 'CV_FORBIDDEN',
  PURPOSE_REQUIRED: 'CV_PURPOSE_REQUIRED',
  INVALID_REQUEST: 'CV_INVALID_REQUEST',
  UNSUPPORTED_MEDIA_TYPE: 'CV_UNSUPPORTED_MEDIA_TYPE',
  CONFLICT: 'CV_CONFLICT',
  RATE_LIMITED: 'CV_RATE_LIMITED',
  // command line
  USAGE: 'CV_USAGE',
  /** a failure callvault did not anticipate (a defect, or a system error it has no word for): the message names its kind only; CALLVAULT_DEBUG=1 shows the rest */
  INTERNAL: 'CV_INTERNAL',
  // transcripts
  /** a transcript (WebVTT, SRT or JSON) that cannot be read: the message names a line or cue, never its text */
  INVALID_TRANSCRIPT: 'CV_INVALID_TRANSCRIPT',
  /** the speech-to-text service failed or answered with an error: the message carries the HTTP status only */
  TRANSCRIPTION_FAILED: 'CV_TRANSCRIPTION_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

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
const DATABASE_DOWN_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection closed|the database connection is not open/i;
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
      return new CallvaultError(ErrorCodes.DATABASE_UNAVAILABLE, code === 'SQLITE_FULL' || code === '53100' ? 'the database disk is full; try again later' : 'the metadata database is not available; try again later', { cause: e });
    }
  }
  return undefined;
}
