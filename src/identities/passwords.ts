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

/** Throws CV_WEAK_PASSWORD for a short or guessable password; `context` are words the user's own data suggests. */
export async function assertStrongPassword(password: string, context: string[]): Promise<void> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new CallvaultError(ErrorCodes.WEAK_PASSWORD, `the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > 256) throw new CallvaultError(ErrorCodes.WEAK_PASSWORD, 'the password must be at most 256 characters');
  const result = (await zxcvbn()).check(password, [...context, 'callvault', '1177']);
  if (result.score < MIN_SCORE) {
    const hint = result.feedback.warning ? `: ${result.feedback.warning}` : '';
    throw new CallvaultError(ErrorCodes.WEAK_PASSWORD, `the password is too easy to guess${hint}`);
  }
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
