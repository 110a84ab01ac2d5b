/**
 * What the command line answers when the operator's environment is wrong: a clear line with a
 * code that says what kind of problem it is (a busy port or a missing folder is the operator's to
 * fix, exit 2), never "storage failed" for something that has nothing to do with storage.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { cli, initVault, tempDir } from '../helpers.js';
import { noiseCall } from '../faults/serve-process.js';

it('serve on a port another program holds: CV_USAGE, exit 2, one line', async () => {
  const { dir } = await initVault();
  const busy = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => busy.once('listening', resolve));
  try {
    const port = String((busy.address() as { port: number }).port);
    const r = await cli(['--data', dir, 'serve', '--insecure-http', '--host', '127.0.0.1', '--port', port, '--json']);
    assert.equal(r.code, 2, r.stderr);
    // checked before the vault is opened (src/cli/commands/serve.ts assertPortFree)
    assert.deepEqual(r.json, { error: { code: 'CV_USAGE', message: `port ${port} is in use; try --port N with a free port` } });
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !/AWS|node >=22|upgrade|a\.co|trace-warnings|^\s*$/.test(l)).length,
      1,
      r.stderr,
    );
  } finally {
    busy.close();
  }
});

it('export into a folder that does not exist: CV_USAGE naming the path and the folder', async () => {
  const { dir } = await initVault();
  const src = await tempDir('src', 'errors');
  await writeFile(join(src, 'call.wav'), noiseCall(20_000));
  const imported = await cli(['--data', dir, 'import', src, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  const folder = join(await tempDir('out', 'errors'), 'no-such-folder');
  const out = join(folder, 'call.wav');
  const r = await cli(['--data', dir, 'export', imported.json.imported[0].id, '--out', out, '--json']);
  assert.equal(r.code, 2, r.stderr);
  const message = `--out ${out}: the folder ${folder} does not exist; create it first or name another`;
  assert.deepEqual(r.json, { error: { code: 'CV_USAGE', message } });
  assert.equal(r.stderr, `callvault: ${message} [CV_USAGE]\n`);
});
