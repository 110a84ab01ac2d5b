/**
 * Human accounts. Passwords are hashed with Argon2id; the TOTP secret is sealed under a key
 * derived from the installation secret, so a database dump holds neither.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { seal } from '../util/aead.js';
import type { Vault } from '../vault.js';

export const ROLES = ['nurse', 'supervisor', 'dpo', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface NewUserCredentials {
  username: string;
  /** shown once */
  password: string;
  /** base32, shown once */
  totpSecret: string;
  totpUri: string;
}

export async function createUser(vault: Vault, username: string, role: Role, controllerId: string | null): Promise<NewUserCredentials> {
  const { generateSecret, generateURI } = await import('otplib');
  const { hash } = await import('@node-rs/argon2');
  const id = randomUUID();
  const password = randomBytes(18).toString('base64url');
  const totpSecret = generateSecret();
  const sealedTotp = seal(vault.keys.derivedSecret('totp-secret'), Buffer.from(totpSecret, 'latin1'), Buffer.from(id, 'latin1'));
  await vault.users.add({
    id,
    username,
    role,
    controller_id: controllerId,
    password_hash: await hash(password),
    totp_secret_sealed: sealedTotp.toString('base64'),
    created_at: new Date().toISOString(),
  });
  return { username, password, totpSecret, totpUri: generateURI({ secret: totpSecret, label: username, issuer: 'callvault' }) };
}
