/**
 * `callvault backup` and `callvault restore` (docs/deployment.md, Backup and restore) through the
 * real CLI: a backup restores into a vault that verifies (deep and audit) and gives back the
 * original bytes; one taken while an import runs in another process is a consistent snapshot; a
 * damaged backup restores nothing; restoring a backup taken before an erasure brings the recording
 * back and says so, while one erased during the backup is erased again; no keyring unless asked;
 * a killed backup leaves no DIR. Backups and restored directories live under the suite's data
 * root, so the final plaintext scan checks them too.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { cp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CLI, cli, initVault, PASSPHRASE, tempDir } from '../helpers.js';
import { makeCallWav, syntheticPersonnummer, wavHeader } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { Vault } from '../../src/vault.js';
import { createServices } from '../../src/services/index.js';
import { operatorActor } from '../../src/services/actor.js';
import type { BackupReport } from '../../src/backup/backup.js';
import { recordingBlobKey } from '../../src/storage/blob-store.js';
import type { BackupManifest } from '../../src/backup/manifest.js';

const REASON = 'Art. 17-begäran, ärende DPO-2026-31';

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const manifestOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BackupManifest;

/** a path that does not exist yet, under the suite's data root */
async function newPath(label: string): Promise<string> {
  return join(await tempDir('data', label), label);
}

async function noiseWav(path: string, bytes: number): Promise<void> {
  const samples = randomBytes(bytes);
  await writeFile(path, Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length }), samples]));
}

/** the last `n` audit events of a data directory */
async function auditTail(dir: string, n: number): Promise<any[]> {
  const r = await cli(['--data', dir, 'audit', 'tail', '-n', String(n), '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

async function restore(from: string, target: string, json = true) {
  return cli(['--data', target, 'restore', '--from', from, ...(json ? ['--json'] : [])]);
}

/** what an operator does after restoring a backup without its keyring: the keys come from where they are kept */
async function bringKeys(from: string, to: string): Promise<void> {
  await cp(join(from, 'keys'), join(to, 'keys'), { recursive: true });
}

async function verifyDeep(dir: string): Promise<any> {
  const r = await cli(['--data', dir, 'verify', '--deep', '--json']);
  assert.equal(r.code, 0, `verify --deep: ${r.stdout}${r.stderr}`);
  return r.json;
}

async function auditVerifies(dir: string): Promise<any> {
  const r = await cli(['--data', dir, 'audit', 'verify', '--json']);
  assert.equal(r.code, 0, `audit verify: ${r.stdout}${r.stderr}`);
  assert.equal(r.json.ok, true);
  return r.json;
}

describe('backup and restore of a vault with recordings', () => {
  let live: string;
  let backup: string;
  let backupReport: any;
  let personnummer: string;
  /** source file → recording id */
  const sources = new Map<string, string>();
  let erasable: string;
  let redactedId: string;

  before(async () => {
    ({ dir: live } = await initVault());
    const src = await tempDir('src', 'backup');
    await noiseWav(join(src, 'a.wav'), 300_000);
    await noiseWav(join(src, 'b.wav'), 200_000);
    await noiseWav(join(src, 'erasable.wav'), 150_000);
    personnummer = syntheticPersonnummer(7101);
    await writeFile(join(src, 'meta.csv'), `file,personnummer\nerasable.wav,${personnummer}\n`);
    // a call with a transcript: redaction makes a rendition, a second object to back up
    const call = await makeCallWav(join(src, 'call.wav'), { seed: 7102 });
    await writeFile(join(src, 'call.transcript.json'), verboseJson(call).json);
    const imported = await cli(['--data', live, 'import', src, '--metadata', join(src, 'meta.csv'), '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json.imported.length, 4);
    assert.equal(imported.json.redaction.redacted, 1);
    for (const r of imported.json.imported) sources.set(r.path, r.id);
    erasable = sources.get(join(src, 'erasable.wav'))!;
    redactedId = sources.get(join(src, 'call.wav'))!;

    backup = await newPath('backup');
    const r = await cli(['--data', live, 'backup', '--out', backup, '--json']);
    assert.equal(r.code, 0, r.stderr);
    backupReport = r.json;
  });

  it('holds the snapshot, the objects its rows name with a manifest, and no keyring; the live log has the backup', async () => {
    assert.equal(backupReport.ok, true);
    assert.equal(backupReport.objects, 5, '4 recordings and 1 redacted rendition');
    assert.deepEqual(backupReport.missing, []);
    assert.equal(backupReport.keyring, false);
    assert.deepEqual((await readdir(backup)).sort(), ['callvault.db', 'config.json', 'manifest.json', 'objects']);
    assert.equal(await exists(`${backup}.partial`), false);
    const manifest = await manifestOf(backup);
    assert.equal(manifest.keyring, null);
    assert.deepEqual(manifest.objects.map((o) => o.kind).sort(), ['recording', 'recording', 'recording', 'recording', 'rendition']);
    assert.ok(manifest.objects.some((o) => o.kind === 'rendition' && o.recordingId === redactedId));
    for (const o of manifest.objects) {
      const file = join(backup, 'objects', ...o.key.split('/'));
      assert.equal(await sha256(file), o.sha256, o.key);
      // the same ciphertext as the live object: a copy, not a re-encryption
      assert.equal(await sha256(join(live, 'objects', ...o.key.split('/'))), o.sha256);
    }
    assert.equal(manifest.database.sha256, await sha256(join(backup, 'callvault.db')));
    assert.equal(await readFile(join(backup, 'config.json'), 'utf8'), await readFile(join(live, 'config.json'), 'utf8'));
    assert.match(manifest.schema, /^\d{4}_/);
    assert.match(manifest.audit.rootHash, /^[A-Za-z0-9+/]{43}=$/);
    // the entry is written after the snapshot, so the live log holds it and the backup's does not
    const logged = (await auditTail(live, 5)).find((e) => e.event.action === 'vault.backup');
    assert.ok(logged, 'a vault.backup entry');
    assert.equal(logged.index, manifest.audit.size);
    assert.deepEqual(logged.event.detail, { backupId: manifest.backupId, objects: 5, auditSize: manifest.audit.size, keyring: false });
    assert.equal(logged.event.actor.type, 'cli');
  });

  it('restores into an empty directory that verifies deep and audits, and exports the original bytes', async () => {
    const restored = await tempDir('data', 'restored');
    const r = await restore(backup, restored);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.objects, 5);
    assert.equal(r.json.keyring, false);
    assert.deepEqual(r.json.erasedAgain, []);
    assert.equal(await exists(`${restored}.partial`), false);
    assert.deepEqual(await readdir(join(restored, 'keys')), [], 'no keyring came with the backup');
    await bringKeys(live, restored);
    const verified = await verifyDeep(restored);
    assert.equal(verified.checked, 5);
    const out = await tempDir('out', 'restored');
    for (const [path, id] of sources) {
      const file = join(out, `${id}.audio`);
      const exported = await cli(['--data', restored, 'export', id, '--out', file, '--json']);
      assert.equal(exported.code, 0, exported.stderr);
      assert.equal(await sha256(file), await sha256(path), basename(path));
    }
    const redacted = await cli(['--data', restored, 'export', redactedId, '--redacted', '--out', join(out, 'redacted.wav'), '--json']);
    assert.equal(redacted.code, 0, redacted.stderr);
    const audit = await auditVerifies(restored);
    const manifest = await manifestOf(backup);
    const first = (await auditTail(restored, 50)).find((e) => e.index === manifest.audit.size);
    assert.equal(first?.event.action, 'vault.restore', 'the restore is the first entry after the snapshot');
    assert.equal(first.event.detail.backupId, manifest.backupId);
    // the exports after it are logged too
    assert.ok(audit.size > manifest.audit.size + sources.size);
  });

  it('with --include-keyring the backup holds what unlocks it with the passphrase, and says so', async () => {
    const withKeys = await newPath('backup-keys');
    const r = await cli(['--data', live, 'backup', '--out', withKeys, '--include-keyring']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /holds the keyring and the audit signing key: with the passphrase it opens every recording/);
    assert.deepEqual((await readdir(join(withKeys, 'keys'))).sort(), ['audit-signing.key', 'keyring.json']);
    for (const file of ['keyring.json', 'audit-signing.key']) assert.equal(await sha256(join(withKeys, 'keys', file)), await sha256(join(live, 'keys', file)));
    const restored = await newPath('restored-keys');
    const res = await restore(withKeys, restored);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.json.keyring, true);
    assert.equal((await verifyDeep(restored)).checked, 5);
    await auditVerifies(restored);
  });

  it('a damaged backup fails the restore with a clear error and leaves no data directory', async () => {
    const manifest = await manifestOf(backup);
    const object = manifest.objects.find((o) => o.kind === 'recording')!;
    const objectFile = (dir: string) => join(dir, 'objects', ...object.key.split('/'));
    const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
      [
        'one flipped byte in an object',
        async (dir) => {
          const bytes = await readFile(objectFile(dir));
          bytes[bytes.length >> 1]! ^= 0x01;
          await writeFile(objectFile(dir), bytes);
        },
        new RegExp(`object of recording ${object.recordingId} differs from its manifest`),
      ],
      ['an object missing', (dir) => unlink(objectFile(dir)), new RegExp(`object of recording ${object.recordingId} is missing`)],
      ['a byte added to the database', async (dir) => writeFile(join(dir, 'callvault.db'), Buffer.of(0), { flag: 'a' }), /the database differs from its manifest/],
    ];
    for (const [what, damage, message] of cases) {
      const damaged = await newPath('damaged');
      await cp(backup, damaged, { recursive: true });
      await damage(damaged);
      const target = await newPath('restored-damaged');
      const r = await restore(damaged, target);
      assert.equal(r.code, 1, what);
      assert.equal(r.json.error.code, 'CV_INTEGRITY_MISMATCH', what);
      assert.match(r.json.error.message, message, what);
      assert.match(r.json.error.message, /nothing was restored/);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.equal(await exists(target), false, `${what}: no data directory`);
      assert.equal(await exists(`${target}.partial`), false, `${what}: no partial one either`);
    }
  });

  it('refuses PostgreSQL and S3, a non-empty --out, and a restore over a data directory', async () => {
    for (const env of [
      { CALLVAULT_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' },
      { CALLVAULT_BLOB_URL: 's3://callvault-recordings?endpoint=http://127.0.0.1:9&forcePathStyle=true' },
    ]) {
      const out = await newPath('refused');
      const r = await cli(['--data', live, 'backup', '--out', out], env);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /pg_basebackup.*bucket versioning or replication.*docs\/deployment\.md/);
      assert.equal(await exists(out), false);
      assert.equal(await exists(`${out}.partial`), false);
    }
    const again = await cli(['--data', live, 'backup', '--out', backup]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is not empty/);
    const inside = await cli(['--data', live, 'backup', '--out', join(live, 'backup')]);
    assert.equal(inside.code, 2);
    assert.match(inside.stderr, /outside the data directory/);
    const over = await restore(backup, live);
    assert.equal(over.code, 2);
    assert.match(over.json.error.message, /is not empty/);
    assert.equal(await exists(`${live}.partial`), false);
    assert.equal((await cli(['--data', live, 'verify', '--json'])).code, 0, 'the live vault is untouched');
  });

  // last: it erases a recording of the live vault
  it('restoring a backup taken before an erasure brings the recording back, and the output says so', async () => {
    const erase = await cli(['--data', live, 'subject', 'erase', '--personnummer', personnummer, '--yes', '--reason', REASON, '--json']);
    assert.equal(erase.code, 0, erase.stderr);
    assert.deepEqual(erase.json.erased, [erasable]);
    const out = await tempDir('out', 'erased');
    assert.notEqual((await cli(['--data', live, 'export', erasable, '--out', join(out, 'live.wav')])).code, 0, 'erased in the live vault');

    const restored = await newPath('restored-erased');
    const r = await restore(backup, restored, false);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /this is the vault as it was at \S+ \(audit log \d+ entries\): everything done after that is undone, and recordings erased after it are back with their keys \(docs\/deployment\.md\); repeat those erasures/,
    );
    await bringKeys(live, restored);
    const file = join(out, 'restored.wav');
    const exported = await cli(['--data', restored, 'export', erasable, '--out', file, '--json']);
    assert.equal(exported.code, 0, exported.stderr);
    const source = [...sources].find(([, id]) => id === erasable)![0];
    assert.equal(await sha256(file), await sha256(source), 'the erased recording is back, whole');
    const found = await cli(['--data', restored, 'subject', 'find', '--personnummer', personnummer, '--json']);
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual(
      found.json.recordings.map((rec: any) => rec.id),
      [erasable],
      "and found by the person's identifier again",
    );
    console.log(`erasure after the backup: recording ${erasable} erased in the live vault, back in the restored one (as documented)`);
  });
});

describe('an erasure while the backup copies the objects', () => {
  it('is reported as missing, not an error, and the restore erases the recording again', async () => {
    const { dir: live } = await initVault();
    const src = await tempDir('src', 'erase-during');
    for (const name of ['a', 'b', 'c']) await noiseWav(join(src, `${name}.wav`), 120_000);
    const personnummer = syntheticPersonnummer(7103);
    await writeFile(join(src, 'meta.csv'), `file,personnummer\nc.wav,${personnummer}\n`);
    const imported = await cli(['--data', live, 'import', src, '--metadata', join(src, 'meta.csv'), '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const erased = imported.json.imported.find((r: any) => r.path.endsWith('c.wav')).id;

    const out = await newPath('backup-erase-during');
    const vault = await Vault.open(live);
    let report: BackupReport;
    try {
      // a recording another writer is still storing at the snapshot: its row is pending
      const { state: _state, indexed: _indexed, ...stored } = (await vault.recordings.get(imported.json.imported[0].id))!;
      const writing = randomUUID();
      await vault.recordings.insertPending({ ...stored, id: writing, blob_key: recordingBlobKey(writing), content_sha256: randomBytes(32).toString('hex'), writer: 'elsewhere:1' });
      report = await createServices(vault).backup.backup(operatorActor('test'), {
        out,
        includeKeyring: true,
        // another process erases the recording after the snapshot, before its object is copied
        afterSnapshot: async () => {
          const r = await cli(['--data', live, 'subject', 'erase', '--personnummer', personnummer, '--yes', '--reason', REASON, '--json']);
          assert.equal(r.code, 0, r.stderr);
        },
      });
    } finally {
      await vault.close();
    }
    assert.equal(report.objects, 2);
    assert.equal(report.pending, 1);
    assert.deepEqual(report.missing, [{ key: `recordings/${erased.slice(0, 2)}/${erased}.cvr`, recordingId: erased, kind: 'recording', reason: 'deleted-after-snapshot' }]);
    assert.deepEqual((await manifestOf(out)).missing, report.missing);

    const restored = await newPath('restored-erase-during');
    const r = await restore(out, restored);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.erasedAgain, [erased]);
    assert.equal(r.json.pendingRemoved, 1, 'the recording being written at the snapshot is removed');
    assert.equal((await verifyDeep(restored)).checked, 2);
    await auditVerifies(restored);
    const list = await cli(['--data', restored, 'recordings', 'list', '--json']);
    assert.equal(list.json.recordings.length, 2);
    assert.ok(!list.json.recordings.some((rec: any) => rec.id === erased));
    const found = await cli(['--data', restored, 'subject', 'find', '--personnummer', personnummer, '--json']);
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual(found.json.recordings, [], 'no blind index ties the person to the recording any more');
    const written = (await auditTail(restored, 50)).filter((e) => e.index >= report.audit.size);
    const [restoreEntry, eraseEntry] = written;
    assert.equal(restoreEntry.event.action, 'vault.restore');
    assert.equal(eraseEntry.event.action, 'recording.erase');
    assert.equal(eraseEntry.event.recordingId, erased);
    console.log(`erasure during the backup: held 2 of 3 objects, 1 erased after the snapshot and erased again on restore, 1 pending row removed; lost 0`);
  });
});

describe('a backup of a vault in use', () => {
  const FILES = 48;
  let live: string;
  let src: string;

  before(async () => {
    ({ dir: live } = await initVault());
    src = await tempDir('src', 'online');
    for (let i = 0; i < FILES; i++) await noiseWav(join(src, `call-${i}.wav`), 400_000 + i * 4_000);
  });

  it('taken while an import runs in another process, is a consistent snapshot that restores and verifies', async () => {
    let importDone = false;
    const importing = cli(['--data', live, 'import', src, '--concurrency', '1', '--json'], { CALLVAULT_PASSPHRASE: '' }).finally(() => {
      importDone = true;
    });
    const backups: { out: string; objects: number; pending: number; duringImport: boolean }[] = [];
    while (!importDone && backups.length < 3) {
      const out = await newPath('online');
      const r = await cli(['--data', live, 'backup', '--out', out, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.json.missing, []);
      backups.push({ out, objects: r.json.objects, pending: r.json.pending, duringImport: !importDone });
    }
    const imported = await importing;
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json.imported.length, FILES);
    const partial = backups.filter((b) => b.duringImport && b.objects < FILES);
    assert.ok(partial.length > 0, `no backup was taken mid-import: ${JSON.stringify(backups)}`);
    for (const b of backups) {
      const restored = await newPath('restored-online');
      const r = await restore(b.out, restored);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.pendingRemoved, b.pending, 'recordings being written at the snapshot are removed');
      await bringKeys(live, restored);
      assert.equal((await verifyDeep(restored)).checked, b.objects, 'every recording of the snapshot, and nothing else');
      await auditVerifies(restored);
    }
    console.log(
      `online backup: ${backups.length} backups while ${FILES} files were imported, holding ${backups.map((b) => `${b.objects} (+${b.pending} pending)`).join(', ')} recordings; each restored and verified deep; lost 0`,
    );
  });

  it('killed mid-way leaves no DIR, only DIR.partial, which the next backup refuses until removed', async () => {
    let out = '';
    let held = 0;
    let killed = false;
    for (let attempt = 0; attempt < 5 && !killed; attempt++) {
      out = await newPath('killed');
      const child = spawn(process.execPath, [CLI, '--data', live, 'backup', '--out', out], { env: { ...process.env, CALLVAULT_PASSPHRASE: PASSPHRASE }, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      // kill once the snapshot is taken and objects are being copied
      let finished = false;
      void exited.then(() => (finished = true));
      while (!finished && !(await exists(join(`${out}.partial`, 'objects', 'recordings')))) await new Promise((r) => setTimeout(r, 2));
      child.kill('SIGKILL');
      killed = (await exited) === 'SIGKILL';
      if (killed) held = await countFiles(join(`${out}.partial`, 'objects')).catch(() => 0);
    }
    assert.ok(killed, 'the kill never landed before the backup finished');
    assert.equal(await exists(out), false, 'a killed backup never looks complete');
    assert.equal(await exists(`${out}.partial`), true);
    assert.equal(await exists(join(`${out}.partial`, 'manifest.json')), false);
    const refused = await cli(['--data', live, 'backup', '--out', out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /\.partial exists: a backup into it was interrupted or is still running/);
    await rm(`${out}.partial`, { recursive: true });
    const r = await cli(['--data', live, 'backup', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.objects, FILES);
    console.log(`killed backup: ${held} of ${FILES} objects were in DIR.partial at the kill; DIR absent; the next backup completed with ${FILES}; lost 0`);
  });
});

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) n += e.isDirectory() ? await countFiles(join(dir, e.name)) : 1;
  return n;
}
