/**
 * Background work that must run on one server at a time (signing checkpoints, the redaction
 * backlog) holds a lease in the database. A server that dies stops renewing; its lease expires
 * and another takes the work over.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Vault } from '../vault.js';

/** this process, as a lease holder */
export const LEASE_HOLDER = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/** takes or renews the lease; false when another server holds it, or the database cannot say */
export async function holdLease(vault: Vault, name: string, ttlMs: number): Promise<boolean> {
  return vault.coordination.acquireLease(name, LEASE_HOLDER, ttlMs).catch(() => false);
}

export async function releaseLease(vault: Vault, name: string): Promise<void> {
  await vault.coordination.releaseLease(name, LEASE_HOLDER).catch(() => undefined);
}
