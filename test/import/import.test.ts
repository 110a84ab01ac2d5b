/**
 * `callvault import | export | verify | keys` end to end, through the real CLI, on real audio
 * made by espeak-ng, sox and ffmpeg.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile, mkdir, readdir, stat, copyFile } from 'node:fs/promises';
import { join, basename } from 'node:path';
import { cli, initVault, PASSPHRASE, tempDir } from '../helpers.js';
import { makeBrokenFiles, makeCallWav, makeMp3, writeWavHeaderVariants, type SyntheticCall } from '../fixtures/audio.js';
import { Vault } from '../../src/vault.js';
import { findByIdentifier } from '../../src/recordings/indexer.js';
import { normalizePersonnummer, normalizePhone } from '../../src/identifiers/normalize.js';

const sha256 = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

interface Source {
  dir: string;
  valid: string[];
  calls: Map<string, SyntheticCall>;
  broken: { path: string; expect: 'unsupported' | 'broken' }[];
}

/** An archive as a recorder leaves it: phone numbers in file names, sidecars, subfolders, junk. */
async function makeArchive(seedBase: number): Promise<Source> {
  const dir = await tempDir('src', 'archive');
  const calls = new Map<string, SyntheticCall>();
  const valid: string[] = [];
  const add = async (name: string, make: (p: string) => Promise<SyntheticCall | undefined>, sidecar = true) => {
    const path = join(dir, name);
    await mkdir(join(path, '..'), { recursive: true });
    const call = await make(path);
    valid.push(path);
    if (call) {
      calls.set(path, call);
      if (sidecar) {
        await writeFile(
          path.replace(/\.[^.]+$/, '.json'),
          JSON.stringify({
            caller: call.phone,
            personnummer: call.personnummer,
            agent: 'nurse-anna',
            region: 'stockholm',
            startedAt: '2019-02-18T09:30:00+01:00',
            direction: 'inbound',
          }),
        );
      }
    }
  };
  const phoneName = (seed: number, ext: string) => `${seedBase + seed}_0701740${String(5 + ((seedBase + seed) % 95)).padStart(2, '0')}.${ext}`;
  await add(phoneName(1, 'wav'), (p) => makeCallWav(p, { seed: seedBase + 1, encoding: 'mulaw' }));
  await add(`2019/02/${phoneName(2, 'wav')}`, (p) => makeCallWav(p, { seed: seedBase + 2, encoding: 'alaw' }));
  await add(`2019/02/${phoneName(3, 'wav')}`, (p) => makeCallWav(p, { seed: seedBase + 3, stereo: true }));
  await add(phoneName(4, 'mp3'), (p) => makeMp3(p, { seed: seedBase + 4, id3: true }));
  // an MP3 that a careless exporter named .wav: detected by content
  await add(`misnamed-${seedBase}.wav`, (p) => makeMp3(p, { seed: seedBase + 5 }), false);
  await mkdir(join(dir, 'variants'));
  const variants = await writeWavHeaderVariants(join(dir, 'variants'), { seed: seedBase + 6 });
  valid.push(...variants.map((v) => v.path));
  const brokenDir = join(dir, 'broken');
  await mkdir(brokenDir, { recursive: true });
  const broken = (await makeBrokenFiles(brokenDir)).map((b) => ({ path: b.path, expect: b.expect }));
  for (const name of await readdir(brokenDir)) {
    const p = join(brokenDir, name);
    if (!broken.some((b) => b.path === p)) valid.push(p);
  }
  return { dir, valid, calls, broken };
}

describe('import, export and verify through the CLI', () => {
  let vault: string;
  let src: Source;
  let imported: { path: string; id: string; sha256: string }[];

  before(async () => {
    src = await makeArchive(100);
    vault = (await initVault()).dir;
  });

  it('imports every valid file, skips what is not audio, fails what is broken', async () => {
    // no passphrase: an importer holds only public keys
    const r = await cli(['--data', vault, 'import', src.dir, '--json'], { CALLVAULT_PASSPHRASE: undefined });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(Object.keys(r.json).sort(), ['failed', 'imported', 'skipped']);
    imported = r.json.imported;
    assert.deepEqual(imported.map((i: any) => i.path).sort(), [...src.valid].sort());
    for (const i of imported) {
      assert.match(i.id, /^[0-9a-f-]{36}$/);
      assert.equal(i.sha256, await sha256(i.path));
    }
    const expectBroken = src.broken
      .filter((b) => b.expect === 'broken')
      .map((b) => b.path)
      .sort();
    const expectUnsupported = src.broken
      .filter((b) => b.expect === 'unsupported')
      .map((b) => b.path)
      .sort();
    assert.deepEqual(r.json.failed.map((f: any) => f.path).sort(), expectBroken);
    assert.deepEqual(r.json.skipped.map((f: any) => f.path).sort(), expectUnsupported);
    for (const f of [...r.json.failed, ...r.json.skipped]) assert.ok(f.reason.length > 0);
    // sidecars are consumed, not reported
    assert.ok(![...imported, ...r.json.failed, ...r.json.skipped].some((x: any) => x.path.endsWith('.json')));
  });

  it('records format, codec, rate, channels and duration', async () => {
    const r = await cli(['--data', vault, 'recordings', 'list', '--json', '--limit', '1000']);
    assert.equal(r.code, 0);
    const byId = new Map(r.json.recordings.map((x: any) => [x.id, x]));
    const mulaw: any = byId.get(imported.find((i) => i.path.includes('101_'))!.id);
    assert.equal(mulaw.codec, 'pcm_mulaw');
    assert.equal(mulaw.sampleRate, 8000);
    assert.equal(mulaw.channels, 1);
    assert.equal(mulaw.region, 'stockholm');
    assert.equal(mulaw.startedAt, '2019-02-18T08:30:00.000Z');
    const stereo: any = byId.get(imported.find((i) => i.path.includes('103_'))!.id);
    assert.equal(stereo.channels, 2);
    const mp3: any = byId.get(imported.find((i) => i.path.includes('misnamed'))!.id);
    assert.equal(mp3.format, 'mp3');
    const call = src.calls.get(imported.find((i) => i.path.includes('101_'))!.path)!;
    assert.ok(Math.abs(mulaw.durationMs - call.durationMs) < 5);
  });

  it('a second run skips everything already stored', async () => {
    const r = await cli(['--data', vault, 'import', src.dir, '--json']);
    assert.equal(r.json.imported.length, 0);
    for (const i of imported) {
      const s = r.json.skipped.find((x: any) => x.path === i.path);
      assert.ok(s, i.path);
      assert.match(s.reason, new RegExp(`already stored as ${i.id}`));
    }
  });

  it('exports every recording byte for byte', async () => {
    const out = await tempDir('out', 'export');
    for (const i of imported) {
      const file = join(out, `${i.id}.audio`);
      const r = await cli(['--data', vault, 'export', i.id, '--out', file, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.sha256, i.sha256);
      assert.equal(await sha256(file), i.sha256);
    }
  });

  it('finds recordings by personnummer and phone through the blind index, in any notation', async () => {
    const v = await Vault.open(vault);
    try {
      await v.unlock(PASSPHRASE);
      const [path, call] = [...src.calls.entries()].find(([p]) => p.includes('101_'))!;
      const id = imported.find((i) => i.path === path)!.id;
      // the short form with a dash is the same person
      const short = `${call.personnummer.slice(2, 8)}-${call.personnummer.slice(8)}`;
      assert.deepEqual(
        (await findByIdentifier(v, 'personnummer', normalizePersonnummer(short))).map((h) => h.row.id),
        [id],
      );
      assert.deepEqual(
        (await findByIdentifier(v, 'phone', normalizePhone(call.phone.replace(/^0/, '+46')))).map((h) => h.row.id),
        [id],
      );
      assert.deepEqual(
        (await findByIdentifier(v, 'source_name', basename(path))).map((h) => h.row.id),
        [id],
      );
      assert.deepEqual(await findByIdentifier(v, 'personnummer', '190001019801'), []);
    } finally {
      await v.close();
    }
  });

  it('the database file holds no identifier, file name or path in the clear', async () => {
    const files = (await readdir(vault)).filter((f) => f.startsWith('callvault.db'));
    const db = Buffer.concat(await Promise.all(files.map((f) => readFile(join(vault, f))))).toString('latin1');
    for (const [path, call] of src.calls) {
      for (const needle of [call.personnummer, call.personnummer.slice(2), call.phone, call.phone.replace(/\D/g, ''), normalizePhone(call.phone), basename(path), src.dir]) {
        assert.ok(!db.includes(needle), `database contains ${needle}`);
      }
    }
  });

  it('verify passes, then names the recording whose object changed', async () => {
    assert.equal((await cli(['--data', vault, 'verify'])).code, 0);
    const victim = imported[3]!;
    const object = join(vault, 'objects', 'recordings', victim.id.slice(0, 2), `${victim.id}.cvr`);
    const original = await readFile(object);
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)]! ^= 0x01;
    await writeFile(object, changed);
    const r = await cli(['--data', vault, 'verify', '--json']);
    assert.equal(r.code, 1);
    assert.deepEqual(
      r.json.problems.map((p: any) => p.recordingId),
      [victim.id],
    );
    // --deep catches what the hash cannot: an object changed together with its recorded hash
    const v = await Vault.open(vault);
    await v.database.db
      .updateTable('recordings')
      .set({ ciphertext_sha256: createHash('sha256').update(changed).digest('hex') })
      .where('id', '=', victim.id)
      .execute();
    await v.close();
    assert.equal((await cli(['--data', vault, 'verify'])).code, 0);
    const deep = await cli(['--data', vault, 'verify', '--deep', '--json']);
    assert.equal(deep.code, 1);
    assert.deepEqual(deep.json.problems, [{ recordingId: victim.id, problem: 'does not decrypt' }]);
    const exp = await cli(['--data', vault, 'export', victim.id, '--out', join(await tempDir('out', 'x'), 'a.wav')]);
    assert.equal(exp.code, 1);
    assert.match(exp.stderr, /^callvault: decryption failed \[CV_DECRYPTION_FAILED\]\n$/);
    await writeFile(object, original);
    const v2 = await Vault.open(vault);
    await v2.database.db
      .updateTable('recordings')
      .set({ ciphertext_sha256: createHash('sha256').update(original).digest('hex') })
      .where('id', '=', victim.id)
      .execute();
    await v2.close();
    assert.equal((await cli(['--data', vault, 'verify', '--deep'])).code, 0);
  });

  it('verify reports a missing object and an object that belongs to no recording', async () => {
    const { dir } = await initVault();
    const one = src.valid[0]!;
    const r = await cli(['--data', dir, 'import', one, '--json']);
    const id = r.json.imported[0].id;
    const object = join(dir, 'objects', 'recordings', id.slice(0, 2), `${id}.cvr`);
    await copyFile(object, join(dir, 'objects', 'recordings', id.slice(0, 2), 'stray.cvr'));
    await writeFile(`${object}.gone`, await readFile(object));
    await (await import('node:fs/promises')).unlink(object);
    const v = await cli(['--data', dir, 'verify', '--json']);
    assert.equal(v.code, 1);
    assert.deepEqual(v.json.problems.map((p: any) => p.problem).sort(), [
      'stored object belongs to no recording',
      'stored object belongs to no recording',
      'stored object is missing',
    ]);
  });

  it('a wrong passphrase gives one clear line and exit 1', async () => {
    const r = await cli(['--data', vault, 'export', imported[0]!.id, '--out', '/dev/null'], { CALLVAULT_PASSPHRASE: 'not the passphrase' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'callvault: the passphrase does not unlock this keyring [CV_WRONG_PASSPHRASE]\n');
    const none = await cli(['--data', vault, 'export', imported[0]!.id, '--out', '/dev/null'], { CALLVAULT_PASSPHRASE: undefined });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /CV_PASSPHRASE_REQUIRED/);
  });

  it('rotate and rewrap move data keys to the new key without touching audio', async () => {
    const objects = async () => {
      const m = new Map<string, string>();
      for (const i of imported) m.set(i.id, await sha256(join(vault, 'objects', 'recordings', i.id.slice(0, 2), `${i.id}.cvr`)));
      return m;
    };
    const before = await objects();
    const oldKeys = (await cli(['--data', vault, 'keys', 'list', '--json'])).json.keys;
    const rot = await cli(['--data', vault, 'keys', 'rotate', '--json']);
    assert.equal(rot.code, 0, rot.stderr);
    const newKey = rot.json.rotated[0].keyId;
    // new imports use the new key; old recordings stay readable before rewrap
    const out = join(await tempDir('out', 'rot'), 'a.wav');
    assert.equal((await cli(['--data', vault, 'export', imported[0]!.id, '--out', out])).code, 0);
    const rw = await cli(['--data', vault, 'keys', 'rewrap', '--json']);
    assert.equal(rw.code, 0, rw.stderr);
    assert.ok(rw.json.rewrapped >= imported.length);
    const keys = (await cli(['--data', vault, 'keys', 'list', '--json'])).json.keys;
    assert.equal(keys.find((k: any) => k.keyId === oldKeys[0].keyId).recordings, 0);
    assert.equal(keys.find((k: any) => k.keyId === newKey).recordings, imported.length);
    assert.deepEqual(await objects(), before, 'no audio object was rewritten');
    assert.equal((await cli(['--data', vault, 'verify', '--deep'])).code, 0);
  });

  it('usage errors exit 2 with one line', async () => {
    for (const args of [
      ['import'],
      ['import', '--bogus', 'x'],
      ['import', '--concurrency', 'abc', '.'],
      ['import', '--concurrency', '0', '.'],
      ['export', 'x'],
      ['frobnicate'],
      ['recordings', 'list', '--limit', '-1'],
    ]) {
      const r = await cli(['--data', vault, ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    const bad = await cli(['--data', vault, 'export', '../../etc/passwd', '--out', '/dev/null']);
    assert.equal(bad.code, 2);
  });
});

describe('import options', () => {
  it('reads metadata from a CSV file and rejects invalid values without echoing them', async () => {
    const { dir } = await initVault();
    const s = await tempDir('src', 'csv');
    const a = join(s, 'a.wav');
    const b = join(s, 'b.wav');
    const ca = await makeCallWav(a, { seed: 301 });
    await makeCallWav(b, { seed: 302 });
    await writeFile(
      join(s, 'meta.csv'),
      `file,caller,personnummer,region,direction,startedAt\na.wav,${ca.phone},${ca.personnummer},uppsala,outbound,2018-05-01T10:00:00Z\nb.wav,,19850709-1234,uppsala,inbound,2018-05-01T10:00:00Z\n`,
    );
    const r = await cli(['--data', dir, 'import', a, b, '--metadata', join(s, 'meta.csv'), '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.json.imported.length, 1);
    assert.equal(r.json.failed[0].path, b);
    assert.match(r.json.failed[0].reason, /personnummer/);
    assert.ok(!r.json.failed[0].reason.includes('1234'));
    const list = await cli(['--data', dir, 'recordings', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.json.recordings[0].region, 'uppsala');
    assert.equal(list.json.recordings[0].direction, 'outbound');
  });

  it('refuses a sidecar naming an unknown controller or with unknown keys', async () => {
    const { dir } = await initVault();
    const s = await tempDir('src', 'sidecar');
    await makeCallWav(join(s, 'x.wav'), { seed: 311 });
    await writeFile(join(s, 'x.json'), JSON.stringify({ controller: 'region-nowhere' }));
    await makeCallWav(join(s, 'y.wav'), { seed: 312 });
    await writeFile(join(s, 'y.json'), JSON.stringify({ colour: 'blue' }));
    await makeCallWav(join(s, 'z.wav'), { seed: 313 });
    await writeFile(join(s, 'z.json'), '{not json');
    const r = await cli(['--data', dir, 'import', s, '--json']);
    assert.equal(r.code, 1);
    assert.deepEqual(r.json.failed.map((f: any) => basename(f.path)).sort(), ['x.wav', 'y.wav', 'z.wav']);
    assert.equal((await cli(['--data', dir, 'recordings', 'list', '--json'])).json.recordings.length, 0);
  });

  it('--shred-source deletes sources and sidecars only after reading the stored copy back', async () => {
    const { dir } = await initVault();
    const s = await tempDir('src', 'shred');
    const c = await makeCallWav(join(s, 'a.wav'), { seed: 321 });
    await writeFile(join(s, 'a.json'), JSON.stringify({ personnummer: c.personnummer }));
    await makeCallWav(join(s, 'b.wav'), { seed: 322 });
    await writeFile(join(s, 'notes.txt'), 'not audio');
    const locked = await cli(['--data', dir, 'import', s, '--shred-source'], { CALLVAULT_PASSPHRASE: undefined });
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /CV_PASSPHRASE_REQUIRED/);
    assert.equal((await readdir(s)).length, 4, 'nothing deleted without the passphrase');
    const r = await cli(['--data', dir, 'import', s, '--shred-source', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.imported.length, 2);
    assert.deepEqual(await readdir(s), ['notes.txt']);
    assert.equal((await cli(['--data', dir, 'verify', '--deep'])).code, 0);
  });

  it('runs on PostgreSQL when CALLVAULT_DATABASE_URL is set', async () => {
    const { throwawayPostgres } = await import('../helpers.js');
    const pg = await throwawayPostgres();
    try {
      const env = { CALLVAULT_DATABASE_URL: pg.url };
      const { dir } = await initVault([], env);
      const s = await tempDir('src', 'pg');
      const call = await makeCallWav(join(s, 'a.wav'), { seed: 331, encoding: 'alaw' });
      await writeFile(join(s, 'a.json'), JSON.stringify({ caller: call.phone, personnummer: call.personnummer }));
      const r = await cli(['--data', dir, 'import', s, '--json'], { ...env, CALLVAULT_PASSPHRASE: undefined });
      assert.equal(r.code, 0, r.stderr);
      // every table as text: no identifier or file name in the clear, indexes written once unlocked
      const client = new (await import('pg')).default.Client({ connectionString: pg.url });
      await client.connect();
      const dump = async () => {
        const tables = ['recordings', 'recording_identifiers', 'controllers', 'users'];
        return (await Promise.all(tables.map(async (t) => JSON.stringify((await client.query(`SELECT * FROM ${t}`)).rows)))).join('\n');
      };
      await cli(['--data', dir, 'keys', 'rotate'], env);
      const text = await dump();
      await client.end();
      for (const needle of [call.personnummer, call.personnummer.slice(2), normalizePhone(call.phone), call.phone.replace(/\D/g, ''), 'a.wav', s]) {
        assert.ok(!text.includes(needle), `PostgreSQL holds ${needle}`);
      }
      assert.match(text, /"kind":"personnummer"/);
      const out = join(await tempDir('out', 'pg'), 'a.wav');
      assert.equal((await cli(['--data', dir, 'export', r.json.imported[0].id, '--out', out], env)).code, 0);
      assert.equal(await sha256(out), r.json.imported[0].sha256);
      assert.equal((await cli(['--data', dir, 'verify', '--deep'], env)).code, 0);
      // the same directory without the URL is refused rather than silently starting an empty SQLite store
      const wrong = await cli(['--data', dir, 'recordings', 'list']);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /CALLVAULT_DATABASE_URL/);
      assert.ok(
        !(await stat(join(dir, 'callvault.db')).then(
          () => true,
          () => false,
        )),
      );
    } finally {
      await pg.drop();
    }
  });

  it('keeps the keyring apart from the data with CALLVAULT_KMS=file:PATH', async () => {
    const keyring = join(await tempDir('data', 'keys'), 'custodian', 'keyring.json');
    const env = { CALLVAULT_KMS: `file:${keyring}` };
    const { dir } = await initVault([], env);
    assert.ok(
      !(await stat(join(dir, 'keys')).then(
        () => true,
        () => false,
      )),
      'no key material in the data directory',
    );
    assert.ok((await stat(keyring)).isFile());
    const s = await tempDir('src', 'kms');
    await makeCallWav(join(s, 'a.wav'), { seed: 341 });
    const r = await cli(['--data', dir, 'import', s, '--json'], { ...env, CALLVAULT_PASSPHRASE: undefined });
    assert.equal(r.code, 0, r.stderr);
    const without = await cli(['--data', dir, 'export', r.json.imported[0].id, '--out', '/dev/null']);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /CALLVAULT_KMS=file:PATH/);
    const out = join(await tempDir('out', 'kms'), 'a.wav');
    assert.equal((await cli(['--data', dir, 'export', r.json.imported[0].id, '--out', out], env)).code, 0);
    assert.equal(await sha256(out), r.json.imported[0].sha256);
    const bad = await cli(['--data', dir, 'recordings', 'list'], { CALLVAULT_KMS: 'pkcs11:token=x' });
    assert.equal(bad.code, 2);
  });

  it('init refuses an existing data directory and a short passphrase', async () => {
    const { dir } = await initVault();
    const again = await cli(['--data', dir, 'init', '--json']);
    assert.equal(again.code, 1);
    assert.equal(again.json.error.code, 'CV_ALREADY_INITIALISED');
    const short = await cli(['--data', join(await tempDir('data', 'short'), 'v'), 'init'], { CALLVAULT_PASSPHRASE: 'short' });
    assert.equal(short.code, 2);
  });
});
