/**
 * The import journal (src/import/journal.ts) over a real SQLite database, at more files than one
 * lookup batch holds: each unchanged file is found, each changed one is not, in the order and
 * with the concurrency an import uses; a file changed moments before its stat is not journaled.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { openDatabase, type MetadataDatabase } from '../../src/db/database.js';
import { ControllersRepository } from '../../src/db/controllers-repository.js';
import { RecordingsRepository } from '../../src/db/recordings-repository.js';
import { fileIdentity, ImportJournal } from '../../src/import/journal.js';
import { removeDir, tempDir } from '../helpers.js';

const FILES = 2600;

function stats(i: number, over: Partial<Record<'mtimeNs' | 'ctimeNs' | 'size', bigint>> = {}): BigIntStats {
  const t = 1_550_482_200_000_000_000n + BigInt(i) * 1_000_000_007n;
  return { ino: 10_000_000n + BigInt(i), dev: 2049n, size: 16_044n, mtimeNs: t, ctimeNs: t + 5n, ...over } as BigIntStats;
}

describe('the import journal', () => {
  let dir: string;
  let m: MetadataDatabase;
  const ids: string[] = [];

  before(async () => {
    dir = await tempDir('data', 'journal');
    m = await openDatabase(`sqlite:${join(dir, 'callvault.db')}`);
    await new ControllersRepository(m.db).add({ id: 'region-a', name: 'Region A', created_at: new Date().toISOString() });
    const rows = Array.from({ length: FILES }, () => {
      const id = randomUUID();
      ids.push(id);
      return {
        id,
        controller_id: 'region-a',
        writer: null,
        blob_key: `recordings/${id.slice(0, 2)}/${id}.cvr`,
        key_id: 'key-1',
        wrapped_key: 'eA==',
        ciphertext_size: 1,
        ciphertext_sha256: 'c'.repeat(64),
        content_sha256: id.replaceAll('-', '').padEnd(64, '0'),
        plaintext_size: 16_044,
        format: 'wav',
        codec: 'pcm_s16le',
        sample_rate: 8000,
        channels: 1,
        duration_ms: 1000,
        agent: null,
        region: null,
        direction: null,
        started_at: null,
        sealed_metadata: 'eA==',
        imported_at: new Date().toISOString(),
      };
    });
    await new RecordingsRepository(m.db).loadStored(rows, []);
  });

  after(async () => {
    await m.close();
    await removeDir(dir);
  });

  test('a file changed within two seconds of its stat has no identity: it is neither trusted nor journaled', () => {
    const now = Number(stats(0).ctimeNs / 1_000_000n);
    assert.equal(fileIdentity(stats(0), now + 1999), undefined);
    assert.equal(fileIdentity(stats(0), now - 60_000), undefined, 'nor one whose times lie ahead of the clock');
    assert.equal(fileIdentity(stats(0), now + 2000), `10000000:2049:16044:${stats(0).mtimeNs}:${stats(0).ctimeNs}`);
  });

  test('a run finds every unchanged file across lookup batches, and none that changed', async () => {
    const identities = Array.from({ length: FILES }, (_, i) => fileIdentity(stats(i), Date.now()));
    const first = new ImportJournal({ database: m }, identities);
    // a first run looks up nothing, and journals what it stores
    assert.equal(await first.storedAs(0, 'region-a'), undefined);
    for (let i = 0; i < FILES; i++) first.record(i, 'region-a', ids[i]!);
    assert.equal(await first.close(), undefined);

    // the next run: some files changed (modification time, change time, size), one racy
    const changed = new Map<number, BigIntStats>([
      [5, stats(5, { mtimeNs: 1n })],
      [999, stats(999, { ctimeNs: stats(999).ctimeNs + 1n })],
      [1000, stats(1000, { size: 16_046n })],
      [2599, stats(2599)],
    ]);
    const now = Date.now();
    const next = Array.from({ length: FILES }, (_, i) => (i === 2599 ? undefined : fileIdentity(changed.get(i) ?? stats(i), now)));
    const second = new ImportJournal({ database: m }, next);
    const found: (string | undefined)[] = new Array(FILES);
    // as the importer's pool takes them: in order, four at a time
    let at = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (at < FILES) {
          const i = at++;
          found[i] = await second.storedAs(i, 'region-a');
        }
      }),
    );
    for (let i = 0; i < FILES; i++) assert.equal(found[i], changed.has(i) ? undefined : ids[i], `file ${i}`);
    assert.equal(await second.storedAs(1, 'region-b'), undefined, "another controller's run does not trust region-a's entries");
  });
});
