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
      assert.throws(
        () => locked.derivedSecret('blind-index'),
        (e: any) => e.code === ErrorCodes.KEYS_LOCKED,
      );
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

    it('a scoped key covers its scope only: it retires nothing, is never active, and is destroyed for good', async () => {
      const p = await f.fresh();
      const own = await p.generate('region-a');
      const period = await p.generate('region-a', 'period/default/2026-01');
      assert.equal(period.scope, 'period/default/2026-01');
      assert.equal(own.scope, null);
      assert.equal((await p.activeKey('region-a')).keyId, own.keyId, 'the controller key stays the active one');
      const statuses = Object.fromEntries((await p.list()).map((k) => [k.keyId, [k.status, k.scope]]));
      assert.deepEqual(statuses, { [own.keyId]: ['active', null], [period.keyId]: ['active', 'period/default/2026-01'] });
      const dek = randomBytes(32);
      const wrapped = await wrapDataKey(period.publicKey, dek, dataKeyContext(period.keyId, 'r'));
      assert.deepEqual(await p.unwrap(period.keyId, wrapped, dataKeyContext(period.keyId, 'r')), dek);
      // a new controller key retires the old controller key, not the period key
      const next = await p.generate('region-a');
      assert.deepEqual(
        (await p.list()).map((k) => [k.keyId, k.status]).sort(),
        [
          [own.keyId, 'retired'],
          [period.keyId, 'active'],
          [next.keyId, 'active'],
        ].sort(),
      );
      // the scope survives reopening, and is bound to the key
      const reopened = await f.reopen(p);
      await reopened.unlock(f.secret);
      assert.equal((await reopened.list()).find((k) => k.keyId === period.keyId)?.scope, 'period/default/2026-01');

      await assert.rejects(reopened.destroy(next.keyId), (e: any) => e.code === ErrorCodes.INVALID_REQUEST, "a controller's own key is never destroyed");
      await reopened.destroy(period.keyId);
      await reopened.destroy(period.keyId); // again: nothing to do
      assert.equal(
        (await reopened.list()).some((k) => k.keyId === period.keyId),
        false,
      );
      await assert.rejects(reopened.unwrap(period.keyId, wrapped, dataKeyContext(period.keyId, 'r')), (e: any) => e.code === ErrorCodes.KEY_NOT_FOUND);
      // and it stays gone for every later opening of the keyring
      const later = await f.reopen(reopened);
      await later.unlock(f.secret);
      assert.equal(
        (await later.list()).some((k) => k.keyId === period.keyId),
        false,
      );
      await assert.rejects(later.unwrap(period.keyId, wrapped, dataKeyContext(period.keyId, 'r')), (e: any) => e.code === ErrorCodes.KEY_NOT_FOUND);
      assert.equal((await later.list()).length, 2);
      // the keyring remembers what it destroyed, for a database restored from an older backup
      assert.deepEqual(await later.destroyedKeys(), [period.keyId]);
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

    it('lists keys in the ControllerKey shape, and the list survives reopening, locked and unlocked', async () => {
      const p = await f.fresh();
      const a1 = await p.generate('region-a');
      await p.generate('region-b');
      const a2 = await p.generate('region-a');
      const listed = await p.list();
      assert.equal(listed.length, 3);
      for (const k of listed) {
        assert.deepEqual(Object.keys(k).sort(), ['controllerId', 'createdAt', 'keyId', 'publicKey', 'scope', 'status']);
        assert.ok(Buffer.isBuffer(k.publicKey) && k.publicKey.length === 65 && k.publicKey[0] === 0x04);
        assert.equal(new Date(k.createdAt).toISOString(), k.createdAt);
      }
      assert.equal(new Set(listed.map((k) => k.keyId)).size, 3, 'key ids are unique');
      const byId = (keys: typeof listed) => Object.fromEntries(keys.map((k) => [k.keyId, k]));
      const locked = await f.reopen(p);
      assert.deepEqual(byId(await locked.list()), byId(listed));
      assert.equal(byId(await locked.list())[a1.keyId]!.status, 'retired');
      await locked.unlock(f.secret);
      assert.deepEqual(byId(await locked.list()), byId(listed));
      assert.equal((await locked.activeKey('region-a')).keyId, a2.keyId);
    });

    it('a locked provider generates nothing', async () => {
      const p = await f.fresh();
      await p.generate('region-a');
      const locked = await f.reopen(p);
      await assert.rejects(locked.generate('region-a'), (e: any) => e.code === ErrorCodes.KEYS_LOCKED);
      assert.equal((await locked.list()).length, 1);
    });

    it('a wrong or empty passphrase leaves it locked and is not repeated in the error', async () => {
      const p = await f.fresh();
      const key = await p.generate('region-a');
      const wrapped = await wrapDataKey(key.publicKey, randomBytes(32), dataKeyContext(key.keyId, 'r'));
      const locked = await f.reopen(p);
      const wrong = `wrong passphrase ${randomUUID()}`;
      await assert.rejects(locked.unlock(wrong), (e: any) => e.code === ErrorCodes.WRONG_PASSPHRASE && !e.message.includes(wrong) && !e.message.includes(f.secret));
      await assert.rejects(locked.unlock(''), (e: any) => (e.code === ErrorCodes.WRONG_PASSPHRASE || e.code === ErrorCodes.PASSPHRASE_REQUIRED) && !e.message.includes(f.secret));
      assert.equal(locked.unlocked, false);
      await assert.rejects(locked.unwrap(key.keyId, wrapped, dataKeyContext(key.keyId, 'r')), (e: any) => e.code === ErrorCodes.KEYS_LOCKED);
      assert.throws(
        () => locked.derivedSecret('blind-index'),
        (e: any) => e.code === ErrorCodes.KEYS_LOCKED,
      );
    });

    it('a wrapped key opens only with the key pair it was wrapped to', async () => {
      const p = await f.fresh();
      const a = await p.generate('region-a');
      const b = await p.generate('region-b');
      const wrapped = await wrapDataKey(a.publicKey, randomBytes(32), dataKeyContext(a.keyId, 'r'));
      await assert.rejects(p.unwrap(b.keyId, wrapped, dataKeyContext(a.keyId, 'r')), (e: any) => e.code === ErrorCodes.DECRYPTION_FAILED);
      await assert.rejects(p.unwrap(b.keyId, wrapped, dataKeyContext(b.keyId, 'r')), (e: any) => e.code === ErrorCodes.DECRYPTION_FAILED);
    });

    it('any changed byte of the wrapped key or the info fails as one opaque decryption failure', async () => {
      const p = await f.fresh();
      const key = await p.generate('region-a');
      const dek = randomBytes(32);
      const info = dataKeyContext(key.keyId, 'rec-1');
      const wrapped = await wrapDataKey(key.publicKey, dek, info);
      const failures = new Set<string>();
      for (let i = 0; i < wrapped.length; i++) {
        const tampered = Buffer.from(wrapped);
        tampered[i]! ^= i === 0 ? 0x01 : 0x80;
        await assert.rejects(
          p.unwrap(key.keyId, tampered, info),
          (e: any) => {
            failures.add(`${e.code}: ${e.message}`);
            return e.code === ErrorCodes.DECRYPTION_FAILED;
          },
          `byte ${i}`,
        );
      }
      const offCurve = Buffer.concat([Buffer.of(0x04), Buffer.alloc(64, 1), wrapped.subarray(65)]);
      const zeroPoint = Buffer.concat([Buffer.of(0x04), Buffer.alloc(64), wrapped.subarray(65)]);
      for (const bad of [offCurve, zeroPoint, Buffer.alloc(wrapped.length), Buffer.alloc(0)]) {
        await assert.rejects(p.unwrap(key.keyId, bad, info), (e: any) => {
          failures.add(`${e.code}: ${e.message}`);
          return e.code === ErrorCodes.DECRYPTION_FAILED;
        });
      }
      for (let i = 0; i < info.length; i += 7) {
        const changed = Buffer.from(info);
        changed[i]! ^= 0x01;
        await assert.rejects(p.unwrap(key.keyId, wrapped, changed), (e: any) => e.code === ErrorCodes.DECRYPTION_FAILED);
      }
      assert.equal(failures.size, 1, `one error for every failure, got ${[...failures].join(' | ')}`);
      assert.deepEqual(await p.unwrap(key.keyId, wrapped, info), dek, 'the original still opens');
    });

    it('many unwraps at once all return their own key', async () => {
      const p = await f.fresh();
      const key = await p.generate('region-a');
      const deks = Array.from({ length: 16 }, () => randomBytes(32));
      const wrapped = await Promise.all(deks.map((d, i) => wrapDataKey(key.publicKey, d, dataKeyContext(key.keyId, `rec-${i}`))));
      const opened = await Promise.all(wrapped.map((w, i) => p.unwrap(key.keyId, w, dataKeyContext(key.keyId, `rec-${i}`))));
      assert.deepEqual(opened, deks);
    });

    it('derived secrets are copies, and differ between installations', async () => {
      const p = await f.fresh();
      const first = p.derivedSecret('blind-index');
      const expected = Buffer.from(first);
      first.fill(0);
      assert.deepEqual(p.derivedSecret('blind-index'), expected, 'zeroing a returned secret changes nothing kept');
      const other = await f.fresh();
      assert.notDeepEqual(other.derivedSecret('blind-index'), expected);
    });
  });
}
