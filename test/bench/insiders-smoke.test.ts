/**
 * A smoke round of the insiders benchmark (bench/insiders.ts) at 40 accounts over 2 weeks: the
 * simulator writes its log, every kind of misuse is planted and labelled, the rules are scored,
 * the append rate and the live runner's delays are measured; the full size is
 * `npm run bench -- insiders`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RULES } from '../../src/alerts/detector.js';
import { benchInsiders } from '../../bench/insiders.js';
import { removeDir, tempDir } from '../helpers.js';

test('the insiders benchmark simulates two weeks of 40 accounts, plants every kind of misuse and finds it', async () => {
  const dir = await tempDir('out', 'bench-insiders');
  try {
    const r = await benchInsiders(dir, { accounts: 40, weeks: 2, appends: 100, liveRounds: 1, seed: 18 }, () => {});
    assert.deepEqual(Object.keys(r.accounts).sort(), ['admin', 'auditor', 'dpo', 'nurse', 'supervisor']);
    assert.ok(r.recordings > 1000, `${r.recordings} calls`);
    assert.ok(r.accessEntries > 500 && r.entries > r.accessEntries, `${r.accessEntries} of ${r.entries}`);
    assert.deepEqual(
      r.rules.map((f) => f.rule),
      [...RULES],
    );
    for (const f of r.rules) assert.ok(f.planted >= 2, `${f.rule}: ${f.planted} planted`);
    // an access to a canary, a protected person's or a colleague's call alerts whatever the history
    for (const rule of ['canary', 'protected-person', 'self-or-colleague']) assert.equal(r.rules.find((f) => f.rule === rule)!.recall, 1, rule);
    for (const f of r.rules) assert.ok(f.recall >= 0.5, `${f.rule}: recall ${f.recall}; missed ${r.missed.join('; ')}`);
    assert.ok(Number.isFinite(r.falsePer50AccountWeeks));
    // evidence is in words: no personnummer or phone number in it
    for (const e of r.falseExamples) assert.doesNotMatch(e.replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/, ''), /\d{8,}|\+46/);
    assert.ok(r.evaluateRate > 0 && r.appendRate > 0 && r.throughputRatio > 0);
    assert.equal(r.delays.canaryMs.length, 1);
    assert.equal(r.delays.volumeMs.length, 1);
  } finally {
    await removeDir(dir);
  }
});
