/**
 * kill -9 of `callvault serve` while recorders upload and retry, again and again. What the server
 * answered 201 or 200 must be stored, readable and listed once; the attempts the kills cut off
 * are settled by the next server's housekeeping, and `verify --deep` then finds nothing wrong.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cli, initVault } from '../helpers.js';
import { Vault } from '../../src/vault.js';
import { ingestToken, killHard, newRecorderLog, noiseCall, startServe, stopGently, uploadUntilKept, type Answer } from './serve-process.js';

const CALLS = 40;
const RECORDERS = 4;
const KILLS = 6;

it(`kill -9 of the server ${KILLS} times during uploads: everything answered 2xx is stored once and verifies`, async () => {
  const { dir } = await initVault();
  const token = await ingestToken(dir);
  let server = await startServe(dir);
  const port = server.port;
  const calls = Array.from({ length: CALLS }, (_, i) => noiseCall(120_000 + i * 4_000));
  const kept = new Map<number, Answer>();
  const log = newRecorderLog();
  let next = 0;
  const recorder = async () => {
    while (next < CALLS) {
      const i = next++;
      const answer = await uploadUntilKept(() => server.url, token, calls[i]!, log);
      if (answer) kept.set(i, answer);
    }
  };
  let finished = false;
  const recorders = Promise.all(Array.from({ length: RECORDERS }, recorder)).finally(() => (finished = true));
  let kills = 0;
  while (!finished && kills < KILLS) {
    // soon after each start: a restart takes seconds, and 40 uploads finish between two kills if the gap is long
    await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 450));
    if (finished) break;
    await killHard(server);
    kills += 1;
    server = await startServe(dir, {}, port);
  }
  await recorders;
  // one more start: its housekeeping settles what the last kill cut off
  await stopGently(server);
  server = await startServe(dir, {}, port);
  await stopGently(server);

  const vault = await Vault.open(dir);
  let lost = 0;
  let duplicated = 0;
  try {
    const rows = await vault.database.db.selectFrom('recordings').select(['id', 'state', 'content_sha256']).execute();
    const stored = new Map(rows.filter((r) => r.state === 'stored').map((r) => [r.id, r.content_sha256]));
    const bySha = new Map<string, number>();
    for (const sha of stored.values()) bySha.set(sha, (bySha.get(sha) ?? 0) + 1);
    for (const [i, answer] of kept) {
      const sha = createHash('sha256').update(calls[i]!).digest('hex');
      if (stored.get(answer.json.id) !== sha) lost += 1;
      if ((bySha.get(sha) ?? 0) > 1) duplicated += 1;
    }
    console.log(
      `kill -9: ${kills} kills, ${log.requests} requests (${[...log.statuses].map(([s, n]) => `${n}×${s || 'no answer'}`).join(', ')}), ` +
        `${kept.size} of ${CALLS} calls answered 2xx; lost: ${lost}, stored twice: ${duplicated}`,
    );
    assert.ok(kills >= 2, `only ${kills} kills landed before the uploads finished`);
    assert.deepEqual(
      log.unexpected.map((a) => `${a.status} ${JSON.stringify(a.json)}`),
      [],
      'every answer is 2xx, 503 or none',
    );
    assert.equal(kept.size, CALLS, 'every recorder got its call stored in the end');
    assert.equal(lost, 0, 'everything answered 2xx is stored, under the id the answer gave');
    assert.equal(duplicated, 0);
    assert.equal(stored.size, CALLS, 'one recording per call');
    assert.deepEqual(
      rows.filter((r) => r.state === 'pending'),
      [],
      'the housekeeping left no attempt pending',
    );
  } finally {
    await vault.close();
  }
  const verify = await cli(['--data', dir, 'verify', '--deep', '--json']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(verify.json.checked, CALLS);
  assert.deepEqual(verify.json.counts, { inFlight: 0, interrupted: 0, strayObjects: 0 });
});
