/**
 * `volume` (docs/alerts.md): a burst the rule alerted on is not part of the account's usual day.
 * Found by the insiders benchmark (bench/insiders.ts): the usual day is the 95th percentile of the
 * account's active days in the history (28 days), which with fewer than 20 active days is the
 * busiest one, so a first burst of 40 calls made the limit 160 and a second burst a week later
 * raised nothing (2 of 2 repeated bursts missed at 100 accounts over 5 weeks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Detector, type AccountFacts, type DetectorSources, type RecordingFacts } from '../../src/alerts/detector.js';
import type { ReadEntry } from '../../src/alerts/entries.js';
import { DEFAULT_THRESHOLDS } from '../../src/alerts/thresholds.js';

const NURSE: AccountFacts = { id: 'u-nurse', name: 'nurse.001', role: 'nurse', agent: 'agent-1', teamAgents: [], workHours: null, controllerId: null };

const sources: DetectorSources = {
  accounts: async () => new Map([[NURSE.id, NURSE]]),
  // every call is one the nurse handled: only the volume rule has anything to say
  recordings: async (ids) => new Map(ids.map((id): [string, RecordingFacts] => [id, { id, controllerId: 'region-01', agent: 'agent-1', callerDigests: [], person: `p-${id}` }])),
  staffDigests: async () => new Map(),
  protectedDigests: async () => new Set(),
  canaries: async () => new Set(),
  thresholds: async () => DEFAULT_THRESHOLDS,
  callerKnownTo: async () => true,
};

const START = Date.parse('2026-10-05T08:00:00Z');
let position = 0;

/** `n` calls heard on day `day`, a minute apart from 10:00 */
function day(d: number, n: number): ReadEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    position: position++,
    time: new Date(START + d * 86_400_000 + 2 * 3_600_000 + i * 30_000),
    action: 'recording.access' as const,
    outcome: 'success' as const,
    actor: { type: 'user', id: NURSE.id, name: NURSE.name, role: NURSE.role },
    recordingId: `r-${d}-${i}`,
    controllerId: 'region-01',
    purpose: 'patient-follow-up',
    detail: { rendition: 'redacted' },
  }));
}

async function bursts(muteFirst: boolean): Promise<{ first: number; second: number }> {
  const detector = new Detector(sources, 'Europe/Stockholm');
  for (let d = 0; d < 6; d++) await detector.evaluate(day(d, 3));
  const first = (await detector.evaluate(day(7, 40), muteFirst)).filter((f) => f.rule === 'volume').length;
  for (let d = 8; d < 12; d++) await detector.evaluate(day(d, 3));
  const second = (await detector.evaluate(day(14, 40))).filter((f) => f.rule === 'volume').length;
  return { first, second };
}

test('a second burst a week after the first alerts again: the first is not the usual day', async () => {
  const { first, second } = await bursts(false);
  assert.ok(first > 0);
  assert.ok(second > 0);
});

test('a burst read muted (a server warming up) is not the usual day either', async () => {
  const { first, second } = await bursts(true);
  assert.equal(first, 0);
  assert.ok(second > 0);
});

test('three calls a day, every day, raise nothing', async () => {
  const detector = new Detector(sources, 'Europe/Stockholm');
  for (let d = 0; d < 20; d++) assert.deepEqual(await detector.evaluate(day(d, 3)), []);
});
