/**
 * Passwords: Argon2id hashes (@node-rs/argon2 defaults: m=19 MiB, t=2, p=1, OWASP's minimum) and a
 * strength check with zxcvbn, which knows common passwords, names and keyboard patterns.
 */
import { CallvaultError, ErrorCodes } from '../errors.js';

export const MIN_PASSWORD_LENGTH = 12;
/** zxcvbn's 0–4 scale; 3 is "safely unguessable: moderate protection from offline attacks" */
const MIN_SCORE = 3;

type Checker = { check(password: string, userInputs?: string[]): { score: number; feedback: { warning: string | null } } };
let checker: Checker | undefined;

async function zxcvbn(): Promise<Checker> {
  if (!checker) {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
    checker = new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
    });
  }
  return checker;
}

/**
 * What makes `secret` too weak as a new password or (`what`) the key custodian's passphrase, as
 * the CV_WEAK_PASSWORD error to throw, or undefined when it is strong enough: at least 12
 * characters and zxcvbn score ≥ 3. `context` are words the user's own data suggests.
 */
export async function weakness(secret: string, context: string[], what: 'password' | 'passphrase' = 'password'): Promise<CallvaultError | undefined> {
  if (secret.length < MIN_PASSWORD_LENGTH) return new CallvaultError(ErrorCodes.WEAK_PASSWORD, `the ${what} must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (secret.length > 256) return new CallvaultError(ErrorCodes.WEAK_PASSWORD, `the ${what} must be at most 256 characters`);
  const result = (await zxcvbn()).check(secret, [...context, 'callvault', '1177']);
  if (result.score >= MIN_SCORE) return undefined;
  const warning = result.feedback.warning;
  if (what === 'password') return new CallvaultError(ErrorCodes.WEAK_PASSWORD, `the password is too easy to guess${warning ? `: ${warning}` : ''}`);
  return new CallvaultError(ErrorCodes.WEAK_PASSWORD, `the passphrase is too easy to guess${warning ? `: ${warning.replace(/\.$/, '')}` : ''}; use four or more unrelated words`);
}

/** Throws CV_WEAK_PASSWORD for a short or guessable password; `context` are words the user's own data suggests. */
export async function assertStrongPassword(password: string, context: string[]): Promise<void> {
  const problem = await weakness(password, context);
  if (problem) throw problem;
}

export async function hashPassword(password: string): Promise<string> {
  const { hash } = await import('@node-rs/argon2');
  return hash(password);
}

/** a hash of a random password, verified against when the account does not exist, so timing says nothing */
let decoy: string | undefined;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  const { verify } = await import('@node-rs/argon2');
  if (!storedHash) {
    decoy ??= await hashPassword(crypto.randomUUID());
    await verify(decoy, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
