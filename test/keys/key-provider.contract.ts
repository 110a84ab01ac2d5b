/**
 * The contract every KeyProvider passes (the keyfile now; PKCS#11 later).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { KeyProvider } from '../../src/keys/key-provider.js';
import { dataKeyContext, wrapDataKey } from '../../src/keys/hpke.js';
import { ErrorCodes } from '../../src/errors.js';

export interface ProviderFixture {
  /** a new, unlocked provider with no controller keys */
  fresh(): Promise<KeyProvider>;
  /** the same provider's storage opened anew, still locked */
  reopen(p: KeyProvider): Promise<KeyProvider>;
  secret: string;
}

export function keyProviderContract(name: string, fx: () => Promise<ProviderFixture>): void {
  describe(`KeyProvider contract: ${name}`, () => {
    let f: ProviderFixture;
    before(async () => (f = await fx()));

    it('wraps to the public key and unwraps with the private key', async () => {
      const p = await f.fresh();
      const key = await p.generate('region-a');
      assert.equal(key.publicKey.length, 65);
      assert.deepEqual(await p.activeKey('region-a'), key);
      const dek = randomBytes(32);
      const rid = randomUUID();
      const wrapped = await wrapDataKey(key.publicKey, dek, dataKeyContext(key.keyId, rid));
      assert.deepEqual(await p.unwrap(key.keyId, wrapped, dataKeyContext(key.keyId, rid)), dek);
    });

    it('public keys are readable while locked; unwrapping is not', async () => {
      const p = await f.fresh();
      const key = await p.generate('region-a');
      const wrapped = await wrapDataKey(key.publicKey, randomBytes(32), dataKeyContext(key.keyId, 'r'));
      const locked = await f.reopen(p);
      assert.equal(locked.unlocked, false);
      assert.deepEqual((await locked.activeKey('region-a')).publicKey, key.publicKey);
      await assert.rejects(locked.unwrap(key.keyId, wrapped, dataKeyContext(key.keyId, 'r')), (e: any) => e.code === ErrorCodes.KEYS_LOCKED);
      assert.throws(() => locked.derivedSecret('blind-index'), (e: any) => e.code === ErrorCodes.KEYS_LOCKED);
      await assert.rejects(locked.unlock('not the passphrase'), (e: any) => e.code === ErrorCodes.WRONG_PASSPHRASE);
      await locked.unlock(f.secret);
      assert.equal((await locked.unwrap(key.keyId, wrapped, dataKeyContext(key.keyId, 'r'))).length, 32);
    });

    it('a wrapped key opens only for its own key id and recording', async () => {
      const p = await f.fresh();
      const key = await p.generate('region-a');
      const wrapped = await wrapDataKey(key.publicKey, randomBytes(32), dataKeyContext(key.keyId, 'rec-1'));
      await assert.rejects(p.unwrap(key.keyId, wrapped, dataKeyContext(key.keyId, 'rec-2')), (e: any) => e.code === ErrorCodes.DECRYPTION_FAILED);
      const tampered = Buffer.from(wrapped);
      tampered[tampered.length - 1]! ^= 1;
      await assert.rejects(p.unwrap(key.keyId, tampered, dataKeyContext(key.keyId, 'rec-1')), (e: any) => e.code === ErrorCodes.DECRYPTION_FAILED);
      await assert.rejects(p.unwrap(key.keyId, wrapped.subarray(1), dataKeyContext(key.keyId, 'rec-1')), (e: any) => e.code === ErrorCodes.DECRYPTION_FAILED);
      await assert.rejects(p.unwrap(randomUUID(), wrapped, dataKeyContext(key.keyId, 'rec-1')), (e: any) => e.code === ErrorCodes.KEY_NOT_FOUND);
    });

    it('rotation makes a new active key and keeps the old one able to unwrap', async () => {
      const p = await f.fresh();
      const old = await p.generate('region-a');
      const other = await p.generate('region-b');
      const wrapped = await wrapDataKey(old.publicKey, Buffer.alloc(32, 7), dataKeyContext(old.keyId, 'r'));
      const next = await p.generate('region-a');
      assert.notEqual(next.keyId, old.keyId);
      assert.equal((await p.activeKey('region-a')).keyId, next.keyId);
      assert.equal((await p.activeKey('region-b')).keyId, other.keyId, 'other controllers are untouched');
      const statuses = Object.fromEntries((await p.list()).map((k) => [k.keyId, k.status]));
      assert.deepEqual(statuses, { [old.keyId]: 'retired', [other.keyId]: 'active', [next.keyId]: 'active' });
      const reopened = await f.reopen(p);
      await reopened.unlock(f.secret);
      assert.deepEqual(await reopened.unwrap(old.keyId, wrapped, dataKeyContext(old.keyId, 'r')), Buffer.alloc(32, 7));
    });

    it('derives stable, purpose-separated secrets', async () => {
      const p = await f.fresh();
      const a = p.derivedSecret('blind-index');
      assert.equal(a.length, 32);
      assert.notDeepEqual(a, p.derivedSecret('totp-secret'));
      const reopened = await f.reopen(p);
      await reopened.unlock(f.secret);
      assert.deepEqual(reopened.derivedSecret('blind-index'), a);
    });

    it('has no active key for an unknown controller', async () => {
      const p = await f.fresh();
      await assert.rejects(p.activeKey('nobody'), (e: any) => e.code === ErrorCodes.KEY_NOT_FOUND);
    });
  });
}
