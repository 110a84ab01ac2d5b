/**
 * Crash safety: the importer is killed with SIGKILL at random points, again and again. After every
 * kill each listed recording must decrypt in full; the next run removes the debris and finishes.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, cli, initVault, tempDir } from '../helpers.js';
import { wavHeader } from '../fixtures/audio.js';
import { Vault } from '../../src/vault.js';

const FILES = 40;
const KILLS = 24;

async function noiseArchive(): Promise<string> {
  const dir = await tempDir('src', 'crash');
  for (let i = 0; i < FILES; i++) {
    const samples = randomBytes(400_000 + i * 10_000);
    await writeFile(join(dir, `call-${i}.wav`), Buffer.concat([wavHeader({ formatTag: 1, channels: 1, rate: 8000, bits: 16, dataBytes: samples.length }), samples]));
  }
  return dir;
}

/** resolves true when the kill landed, false when the import had already finished */
function importAndKill(data: string, src: string, afterMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, '--data', data, 'import', src, '--json'], {
      env: { ...process.env, CALLVAULT_PASSPHRASE: '' },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}

/** every listed recording decrypts; the only problems are the attempts the kill interrupted, which the next run settles */
async function checkStore(dir: string, context: string): Promise<number> {
  const verify = await cli(['--data', dir, 'verify', '--deep', '--json']);
  assert.ok(verify.json, `${context}: ${verify.stdout}${verify.stderr}`);
  assert.equal(verify.json.counts.strayObjects, 0, context);
  assert.equal(verify.json.problems.length, verify.json.counts.interrupted, `${context}: ${verify.stdout}`);
  assert.equal(verify.code, verify.json.counts.interrupted > 0 ? 1 : 0, `${context}: interrupted attempts are problems until settled`);
  return verify.json.checked;
}

async function finishAndCheck(dir: string, src: string): Promise<void> {
  const final = await cli(['--data', dir, 'import', src, '--json']);
  assert.equal(final.code, 0, final.stderr);
  assert.equal(final.json.imported.length + final.json.skipped.length, FILES);
  assert.ok(final.json.skipped.every((s: any) => /^already stored as /.test(s.reason)));
  assert.deepEqual(await readdir(join(dir, 'objects', '.tmp')).catch(() => []), [], 'temporary objects removed');
  const v = await Vault.open(dir);
  try {
    const rows = await v.database.db.selectFrom('recordings').select(['state']).execute();
    assert.equal(rows.length, FILES);
    assert.ok(
      rows.every((r) => r.state === 'stored'),
      'no pending rows left',
    );
  } finally {
    await v.close();
  }
  assert.equal(await checkStore(dir, 'after the final run'), FILES);
}

it(`survives ${KILLS} kills of the importer at random points`, async () => {
  const src = await noiseArchive();
  // kills are spread over the time a whole import takes on this machine, measured first, so that
  // most land mid-import however fast or loaded the machine is
  const timed = (await initVault()).dir;
  const started = Date.now();
  assert.equal((await cli(['--data', timed, 'import', src, '--json'])).code, 0);
  const whole = Date.now() - started;
  let dir = (await initVault()).dir;
  let listed = 0;
  let kills = 0;
  for (let run = 0; kills < KILLS; run++) {
    assert.ok(run < KILLS * 3, `only ${kills} kills landed in ${run} runs (a whole import takes ${whole} ms)`);
    const killed = await importAndKill(dir, src, Math.floor(Math.random() * whole));
    const checked = await checkStore(dir, `after run ${run}`);
    assert.ok(checked >= listed, 'nothing once listed disappears');
    listed = checked;
    if (killed) kills += 1;
    if (checked === FILES) {
      // the archive is in: check the store is whole, then start again so later kills land mid-import
      await finishAndCheck(dir, src);
      dir = (await initVault()).dir;
      listed = 0;
    }
  }
  await finishAndCheck(dir, src);
});
