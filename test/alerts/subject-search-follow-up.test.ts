/**
 * `subject-search`, unfollowed look-ups (docs/alerts.md): a privacy officer's search by
 * personnummer that the subject request then answers (an export, an access log, an erasure of the
 * same person) was followed; three searches in a day followed by nothing are a look-up, not a
 * case. Found by the insiders benchmark (bench/insiders.ts): before, only a purpose-stated
 * playback counted as following, so every privacy officer with three subject requests a day
 * raised an alert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Detector, type AccountFacts, type DetectorSources } from '../../src/alerts/detector.js';
import type { ReadEntry } from '../../src/alerts/entries.js';
import { DEFAULT_THRESHOLDS } from '../../src/alerts/thresholds.js';

const DPO: AccountFacts = { id: 'u-dpo', name: 'dpo.001', role: 'dpo', agent: null, teamAgents: [], workHours: null, controllerId: 'region-01' };

const sources: DetectorSources = {
  accounts: async () => new Map([[DPO.id, DPO]]),
  recordings: async () => new Map(),
  staffDigests: async () => new Map(),
  protectedDigests: async () => new Set(),
  canaries: async () => new Set(),
  thresholds: async () => DEFAULT_THRESHOLDS,
  callerKnownTo: async () => false,
};

const START = Date.parse('2026-11-10T08:00:00Z');
let position = 0;

function entry(action: ReadEntry['action'], minutes: number, detail: Record<string, unknown>): ReadEntry {
  return {
    position: position++,
    time: new Date(START + minutes * 60_000),
    action,
    outcome: 'success',
    actor: { type: 'user', id: DPO.id, name: DPO.name, role: DPO.role },
    purpose: action === 'subject.find' ? undefined : 'subject-request',
    detail,
  };
}

/** three subject requests in a morning, each answered by `answer` (or by nothing) */
async function morning(answer: ((person: string, minutes: number) => ReadEntry) | undefined) {
  const detector = new Detector(sources, 'Europe/Stockholm');
  const entries: ReadEntry[] = [];
  for (let i = 0; i < 3; i++) {
    const person = `hash-${i}`;
    entries.push(entry('subject.find', i * 60, { personnummerHash: person, controllers: ['region-01'], results: 2, found: [] }));
    if (answer) entries.push(answer(person, i * 60 + 5));
  }
  const findings = await detector.evaluate(entries);
  findings.push(...(await detector.expire(new Date(START + 6 * 3_600_000))));
  return findings.filter((f) => f.rule === 'subject-search');
}

test('subject requests answered by an export, an access log or an erasure raise no unfollowed-search alert', async () => {
  assert.deepEqual(await morning((person, m) => entry('subject.export', m, { personnummerHash: person, controllers: ['region-01'], recordings: 2 })), []);
  assert.deepEqual(await morning((person, m) => entry('subject.access-log', m, { personnummerHash: person, controllers: ['region-01'], recordings: 2, accesses: 4 })), []);
  assert.deepEqual(await morning((person, m) => entry('subject.erase', m, { personnummerHash: person, controllers: ['region-01'], recordings: 2 })), []);
});

test('three look-ups followed by nothing, or by an answer about someone else, are a look-up, not a case', async () => {
  const none = await morning(undefined);
  assert.equal(none.length, 1);
  assert.match(none[0]!.evidence, /3 times today without then stating a purpose/);
  const other = await morning((_person, m) => entry('subject.export', m, { personnummerHash: 'hash-someone-else', controllers: ['region-01'], recordings: 1 }));
  assert.equal(other.length, 1);
});
