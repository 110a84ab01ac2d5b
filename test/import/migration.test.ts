/**
 * `callvault import` of a legacy archive (issue 19, migration), through the real CLI on real
 * files: identifiers in file and directory names and in WAV INFO and ID3 tags are sealed and
 * indexed, so `subject find`, `export` and `erase` reach a call whose only trace of the person is
 * there; and a resumed import skips the unchanged files by the import journal without opening
 * them (watched with strace where it is installed), while a changed one is read again.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, cli, initVault, PASSPHRASE, tempDir } from '../helpers.js';
import { syntheticPersonnummer, wavHeader } from '../fixtures/audio.js';
import { unzip } from '../subject/zip.js';
import { Vault } from '../../src/vault.js';
import { filesUnder } from '../http/fixtures.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const PH_NAME = '46701740641'; // in a file name, with the country code and no plus
const PH_DIR = '0701740642'; // in a directory name
const PH_ABOVE = '0701740643'; // in a directory above the import's root: not the call's
const PNR_TAG = syntheticPersonnummer(431); // in a WAV's INFO comment
const SAM_TAG = '19850769-9802'; // a samordningsnummer in an MP3's ID3 comment
const PLAIN_FILES = 30;

/** one second of 8 kHz 16-bit audio, different for every seed (no two files are duplicates) */
function wav(seed: number): Buffer {
  const data = Buffer.alloc(16000, seed % 251);
  data.writeUInt32LE(seed, 0);
  return Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: data.length }), data]);
}

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-loglevel', 'error', '-y', ...args]);
}

const hasStrace = await run('strace', ['-V']).then(
  () => true,
  () => false,
);

/** `callvault ARGS` under strace: its result and every path any of its processes opened */
async function tracedCli(args: string[]): Promise<{ json: any; opened: string[] }> {
  const out = await tempDir('out', 'trace');
  const trace = join(out, 'trace.txt');
  const { stdout } = await run('strace', ['-f', '-qq', '-s', '4096', '-e', 'trace=open,openat,openat2', '-o', trace, process.execPath, CLI, ...args], {
    env: { ...process.env, CALLVAULT_PASSPHRASE: PASSPHRASE },
    maxBuffer: 64 * 1024 * 1024,
  });
  const opened = [...(await readFile(trace, 'utf8')).matchAll(/open(?:at2?)?\((?:[^,]*, )?"([^"]+)"/g)].map((m) => m[1]!);
  return { json: JSON.parse(stdout), opened };
}

describe('callvault import of a legacy archive', () => {
  let vault: string;
  let root: string;
  const path: Record<'name' | 'dir' | 'tag' | 'sam' | 'above' | 'changed' | 'touched', string> = {} as never;
  let plain: string[];
  let first: any;
  const idOf = (p: string) => first.imported.find((i: any) => i.path === p)?.id as string;
  const find = async (kind: 'phone' | 'personnummer', value: string) => {
    const r = await cli(['--data', vault, 'subject', 'find', `--${kind}`, value, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return r.json.recordings as { id: string; foundIn: string[] }[];
  };

  before(async () => {
    // the archive lies below a directory whose name holds a number: the operator's, not a call's
    const above = await tempDir('src', 'migration');
    root = join(above, `region-${PH_ABOVE}`, 'archive');
    await mkdir(join(root, '2019', `caller-${PH_DIR}`), { recursive: true });
    path.name = join(root, '2019', `in-${PH_NAME}-20190218-0930.wav`);
    path.dir = join(root, '2019', `caller-${PH_DIR}`, 'call.wav');
    path.tag = join(root, '2019', 'tagged.wav');
    path.sam = join(root, '2019', 'tagged.mp3');
    path.above = join(root, 'nothing-here.wav');
    await writeFile(path.name, wav(1));
    await writeFile(path.dir, wav(2));
    await writeFile(path.above, wav(3));
    const source = join(above, 'source.wav');
    await writeFile(source, wav(4));
    await ffmpeg(['-i', source, '-metadata', `comment=pnr ${PNR_TAG.slice(0, 8)}-${PNR_TAG.slice(8)}`, '-metadata', 'title=samtal', '-c', 'copy', path.tag]);
    await ffmpeg(['-i', source, '-metadata', `comment=samordningsnummer ${SAM_TAG}`, '-codec:a', 'libmp3lame', '-b:a', '32k', path.sam]);
    plain = [];
    for (let i = 0; i < PLAIN_FILES; i++) {
      const p = join(root, 'plain', `call-${String(i).padStart(3, '0')}.wav`);
      await mkdir(join(root, 'plain'), { recursive: true });
      await writeFile(p, wav(100 + i));
      plain.push(p);
    }
    path.changed = plain[0]!;
    path.touched = plain[1]!;
    // a file changed less than two seconds before its stat is not journaled (src/import/journal.ts)
    await sleep(2100);
    vault = (await initVault()).dir;
    const r = await cli(['--data', vault, 'import', root, '--json']);
    assert.equal(r.code, 0, r.stderr);
    first = r.json;
    assert.equal(first.imported.length, 5 + PLAIN_FILES, JSON.stringify(first));
  });

  test('a number in a file name is found in any notation, as metadata', async () => {
    for (const notation of ['0701740641', '+46 70-174 06 41', '070-174 06 41', '+46701740641']) {
      assert.deepEqual(
        (await find('phone', notation)).map((r) => [r.id, r.foundIn]),
        [[idOf(path.name), ['metadata']]],
        notation,
      );
    }
  });

  test("a number in a directory name below the import's root is found; one above it is not", async () => {
    assert.deepEqual(
      (await find('phone', PH_DIR)).map((r) => r.id),
      [idOf(path.dir)],
    );
    assert.deepEqual(await find('phone', PH_ABOVE), []);
  });

  test('a personnummer in a WAV INFO tag and a samordningsnummer in an ID3 comment are found', async () => {
    assert.deepEqual(
      (await find('personnummer', PNR_TAG)).map((r) => r.id),
      [idOf(path.tag)],
    );
    assert.deepEqual(
      (await find('personnummer', SAM_TAG)).map((r) => r.id),
      [idOf(path.sam)],
    );
  });

  test('an import without the passphrase seals them, and the next command that unlocks the keyring indexes them', async () => {
    const dir = join(root, '..', 'later');
    await mkdir(dir, { recursive: true });
    const p = join(dir, 'out-0701740644.wav');
    await writeFile(p, wav(5));
    const r = await cli(['--data', vault, 'import', dir, '--json'], { CALLVAULT_PASSPHRASE: undefined });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.imported.length, 1);
    assert.deepEqual(
      (await find('phone', '0701740644')).map((x) => x.id),
      [r.json.imported[0].id],
    );
  });

  test('subject export gives the person the call their number named, and says the file held it', async () => {
    const out = join(await tempDir('out', 'subject'), 'person.zip');
    const r = await cli(['--data', vault, 'subject', 'export', '--personnummer', PNR_TAG, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const zip = await unzip(await readFile(out));
    const meta = JSON.parse(zip.get(`recordings/${idOf(path.tag)}/metadata.json`)!.data.toString('utf8'));
    assert.deepEqual(meta.inSourceFile, [PNR_TAG]);
    assert.equal(meta.personnummer, null, 'no sidecar named the person');
    assert.ok(zip.get(`recordings/${idOf(path.tag)}/audio.wav`)!.data.equals(await readFile(path.tag)));
  });

  test('a resumed import skips every unchanged file without opening it', async (t) => {
    const args = ['--data', vault, 'import', root, '--json'];
    const { json, opened } = hasStrace ? await tracedCli(args) : { json: (await cli(args)).json, opened: undefined };
    assert.equal(json.imported.length, 0);
    assert.equal(json.failed.length, 0);
    for (const i of first.imported) {
      const s = json.skipped.find((x: any) => x.path === i.path);
      assert.ok(s, i.path);
      assert.equal(s.reason, `already stored as ${i.id} (unchanged since: not read again)`, i.path);
    }
    if (opened) {
      const sources = new Set(first.imported.map((i: any) => i.path));
      assert.deepEqual(
        opened.filter((p) => sources.has(p)),
        [],
        'no source file was opened',
      );
      assert.ok(
        opened.some((p) => p.endsWith('callvault.db')),
        'the trace saw the opens of the process tree',
      );
    } else t.diagnostic('strace is not installed: the opens were not watched');
  });

  test('a file changed in place is read again; one only touched is hashed, found stored, and journaled again', async () => {
    const changedBefore = await stat(path.changed);
    // the same size, other bytes, in place (the same inode)
    const fh = await open(path.changed, 'r+');
    await fh.write(Buffer.from('different bytes'), 0, 15, 100);
    await fh.close();
    // the same bytes, a new modification time
    await utimes(path.touched, new Date('2019-02-18T09:30:00Z'), new Date('2019-02-18T09:30:00Z'));
    assert.equal((await stat(path.changed)).size, changedBefore.size);
    assert.equal((await stat(path.changed)).ino, changedBefore.ino);
    await sleep(2100);

    const second = await cli(['--data', vault, 'import', root, '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(
      second.json.imported.map((i: any) => i.path),
      [path.changed],
      'the changed file is stored as a new recording',
    );
    const touched = second.json.skipped.find((x: any) => x.path === path.touched);
    assert.equal(touched.reason, `already stored as ${idOf(path.touched)}`, 'hashed, and found stored');
    for (const p of plain.slice(2)) assert.match(second.json.skipped.find((x: any) => x.path === p).reason, /unchanged since/);

    const third = await cli(['--data', vault, 'import', root, '--json']);
    assert.equal(third.json.imported.length, 0);
    for (const [p, id] of [
      [path.touched, idOf(path.touched)],
      [path.changed, second.json.imported[0].id],
    ]) {
      assert.equal(third.json.skipped.find((x: any) => x.path === p).reason, `already stored as ${id} (unchanged since: not read again)`, p);
    }
  });

  test('subject erase by phone erases the call named only by its file; the journal forgets it, and a re-run does not skip the file as stored', async () => {
    const id = idOf(path.name);
    const r = await cli(['--data', vault, 'subject', 'erase', '--phone', '070-174 06 41', '--yes', '--reason', 'Art. 17-begäran, ärende MIG-2026-1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.erased, [id]);
    assert.deepEqual(await find('phone', PH_NAME), []);
    const v = await Vault.open(vault);
    try {
      const rows = await v.database.db.selectFrom('import_journal').select('recording_id').execute();
      assert.ok(rows.length >= PLAIN_FILES, 'the journal holds the stored files');
      assert.ok(!rows.some((row) => row.recording_id === id), "the erased recording's entry is gone");
    } finally {
      await v.close();
    }
    const again = await cli(['--data', vault, 'import', root, '--json']);
    const entry = [...again.json.imported, ...again.json.skipped].find((x: any) => x.path === path.name);
    assert.ok(entry && !(entry.reason ?? '').includes(id), JSON.stringify(entry));
  });

  test('no identifier, file name or path is in the data directory in the clear', async () => {
    const digits = (s: string) => s.replace(/\D/g, '');
    const needles = [
      PH_NAME,
      `+${PH_NAME}`,
      PH_NAME.slice(2),
      PH_DIR,
      `+46${PH_DIR.slice(1)}`,
      PH_ABOVE,
      '0701740644',
      '+46701740644',
      PNR_TAG,
      PNR_TAG.slice(2),
      digits(SAM_TAG),
      digits(SAM_TAG).slice(2),
      `in-${PH_NAME}`,
      'tagged.wav',
      root,
    ];
    const files = (await filesUnder(vault)).map((f) => join(vault, f));
    assert.ok(files.some((f) => f.endsWith('callvault.db')));
    for (const file of files) {
      const text = (await readFile(file)).toString('latin1');
      for (const needle of needles) assert.ok(!text.includes(needle), `${file} holds ${needle}`);
    }
  });
});
