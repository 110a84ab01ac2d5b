/**
 * A month of more than a thousand recordings shredded in one run, on SQLite and PostgreSQL: every
 * recording becomes a tombstone as erasure makes it (the batched `erase`), the person links are
 * kept for the access log, and every object is deleted in the same run, not a thousand of them
 * (the rest used to wait for later runs, 1000 at a time).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { NewRecording } from '../../src/db/recordings-repository.js';
import { runRetention } from '../../src/retention/run.js';
import { Vault } from '../../src/vault.js';
import { TEST_KDF } from '../http/harness.js';
import { PASSPHRASE, removeDir, tempDir, throwawayPostgres } from '../helpers.js';

const COUNT = 1203;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`shredding a month of ${COUNT} recordings (${dialect})`, () => {
    let dir: string;
    let vault: Vault;
    let drop: (() => Promise<void>) | undefined;
    const ids: string[] = [];
    let renditionKey = '';

    before(async () => {
      dir = await tempDir('data', 'shred-many');
      const pg = dialect === 'postgres' ? await throwawayPostgres() : undefined;
      drop = pg?.drop;
      vault = await Vault.create(dir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF }, { databaseUrl: pg?.url });
      const key = await vault.keys.generate('region-a', 'period/default/2020-01');
      const rows: NewRecording[] = [];
      const identifiers: { recording_id: string; kind: 'personnummer' | 'phone' | 'source_name'; digest: string }[] = [];
      for (let i = 0; i < COUNT; i++) {
        const id = randomUUID();
        ids.push(id);
        const started = new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString();
        rows.push({
          id,
          controller_id: 'region-a',
          writer: null,
          blob_key: `recordings/${id.slice(0, 2)}/${id}.cvr`,
          key_id: key.keyId,
          wrapped_key: randomBytes(113).toString('base64'),
          ciphertext_size: 16,
          ciphertext_sha256: randomBytes(32).toString('hex'),
          content_sha256: randomBytes(32).toString('hex'),
          plaintext_size: 1,
          format: 'wav',
          codec: 'pcm_mulaw',
          sample_rate: 8000,
          channels: 1,
          duration_ms: 1000,
          agent: 'agent-1',
          region: 'north',
          direction: 'inbound',
          started_at: started,
          sealed_metadata: randomBytes(64).toString('base64'),
          imported_at: started,
        });
        for (const kind of ['personnummer', 'phone', 'source_name'] as const) identifiers.push({ recording_id: id, kind, digest: randomBytes(32).toString('hex') });
      }
      await vault.recordings.loadStored(rows, identifiers);
      for (const row of rows) {
        const path = join(dir, 'objects', row.blob_key);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, randomBytes(16));
      }
      // one recording with a redacted rendition, whose object goes too
      renditionKey = `recordings/${ids[700]!.slice(0, 2)}/${randomUUID()}.cvr`;
      await vault.database.db
        .insertInto('recording_renditions')
        .values({
          id: randomUUID(),
          recording_id: ids[700]!,
          kind: 'redacted',
          blob_key: renditionKey,
          format: 'wav',
          ciphertext_size: 16,
          ciphertext_sha256: randomBytes(32).toString('hex'),
          plaintext_size: 1,
          created_at: new Date().toISOString(),
        })
        .execute();
      await writeFile(join(dir, 'objects', renditionKey), randomBytes(16));
      await vault.retention.setPolicy({ controller_id: 'region-a', class: 'default', days: 30, updated_at: new Date().toISOString() });
    });
    after(async () => {
      await vault?.close();
      await drop?.();
      await removeDir(dir);
    });

    test('one run shreds them all and deletes every object', async () => {
      const report = await runRetention(vault, { dryRun: false, now: new Date(Date.UTC(2020, 2, 15)), record: async () => {} });
      assert.equal(report.controllers[0]!.shredded, COUNT);
      assert.equal(report.controllers[0]!.keysDestroyed.length, 1);
      const left = (await readdir(join(dir, 'objects'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
      assert.equal(left.length, 0, `${left.length} objects left after the run`);

      const rows = await vault.database.db.selectFrom('recordings').selectAll().execute();
      assert.equal(rows.length, COUNT);
      for (const r of rows) {
        assert.equal(r.state, 'erased');
        assert.equal(r.wrapped_key, '');
        assert.equal(r.sealed_metadata, '');
        assert.equal(r.content_sha256, `erased:${r.id}`);
        assert.equal(r.erasure_debris, null);
        assert.ok(r.shredded_at && r.erased_at === r.shredded_at);
      }
      const indexes = await vault.database.db.selectFrom('recording_identifiers').select('recording_id').execute();
      assert.equal(indexes.length, 0);
      const links = await vault.database.db.selectFrom('destroyed_identifiers').select(['recording_id', 'kind', 'destruction']).execute();
      assert.equal(links.length, COUNT * 2, 'the personnummer and phone links of every recording are kept, the file name is not');
      assert.ok(links.every((l) => l.destruction === 'shredded' && l.kind !== 'source_name'));
      assert.equal((await vault.database.db.selectFrom('recording_renditions').selectAll().execute()).length, 0);

      // erasing tombstones again does nothing
      assert.deepEqual(await vault.recordings.erase(ids, new Date().toISOString()), []);
    });
  });
}
