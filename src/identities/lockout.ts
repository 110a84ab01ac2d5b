/**
 * Lockout after failed sign-ins (a wrong password or code at sign-in or at a password change).
 *
 * Failures are counted per account and client address, and per account across all addresses:
 *   - at one address, ADDRESS_THRESHOLD failures lock the account at that address only, so that
 *     someone guessing from their own machine cannot lock a nurse out of hers;
 *   - across all addresses, ACCOUNT_THRESHOLD failures lock the account everywhere: a guess spread
 *     over many addresses is still bounded (a password alone is not enough to sign in, so this
 *     threshold can be high; every password account also needs a TOTP code).
 * A lock lasts LOCK_BASE_MS at the threshold and doubles with each further failure, up to
 * LOCK_MAX_MS; failures during a lock are not checked and not counted.
 *
 * Counts decay: one failure is forgiven every DECAY_MS (a leaky bucket; a count is compared with
 * its threshold rounded up), so occasional failures, such as one an hour, never add up to a lock,
 * and a burst drains away by itself. A successful
 * sign-in forgets the failures at its address; the account-wide count only decays, so that the
 * owner's sign-in does not reset a guess in progress elsewhere.
 *
 * IPv6 clients are counted by their /64 prefix, which one client usually holds whole.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Vault } from '../vault.js';

export const ADDRESS_THRESHOLD = 5;
export const ACCOUNT_THRESHOLD = 50;
export const DECAY_MS = 15 * 60_000;
const LOCK_BASE_MS = 30_000;
const LOCK_MAX_MS = 3_600_000;
/** the key of the account-wide count */
const ANYWHERE = '*';
/** a count this old has decayed to nothing (ACCOUNT_THRESHOLD × DECAY_MS is 12.5 hours) */
const FORGET_AFTER_MS = 24 * 3_600_000;

type Users = Vault['users'];

/** which lock holds the account at this address now: its own, the account-wide one, or none */
export async function lockAt(users: Users, userId: string, address: string, now: Date): Promise<'locked' | 'locked-account' | undefined> {
  const locks = await users.signinLocks(userId, [address, ANYWHERE], now.getTime());
  if (locks.includes(ANYWHERE)) return 'locked-account';
  return locks.length > 0 ? 'locked' : undefined;
}

/** counts a failure at the address and overall, and locks where a count reaches its threshold */
export async function recordFailure(users: Users, userId: string, address: string, now: Date): Promise<void> {
  const at = now.getTime();
  for (const [where, threshold] of [
    [address, ADDRESS_THRESHOLD],
    [ANYWHERE, ACCOUNT_THRESHOLD],
  ] as const) {
    const failures = await users.countFailedSignin(userId, where, at, DECAY_MS);
    // rounded up: five failures within a few minutes are five, though the first began to drain
    if (Math.ceil(failures) >= threshold) await users.lockSignin(userId, where, at + Math.min(LOCK_BASE_MS * 2 ** Math.max(0, failures - threshold), LOCK_MAX_MS));
  }
  await users.pruneSigninFailures(at - FORGET_AFTER_MS);
}

/** a sign-in succeeded from this address: its failures there are forgotten */
export async function recordSuccess(users: Users, userId: string, address: string): Promise<void> {
  await users.clearSigninFailures(userId, address);
}

/**
 * The address failures are counted under: IPv4 as it is (also when mapped into IPv6), IPv6 by its
 * /64 prefix; 'unknown' when the request had none.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return 'unknown';
  const [head = '', tail] = ip.toLowerCase().split('%')[0]!.split('::');
  const headGroups = head ? head.split(':') : [];
  // a tail that ends in dotted IPv4 holds two groups' worth of bits there, which /64 never reaches
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}
