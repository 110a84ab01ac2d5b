/**
 * An alert's evidence is kept as facts (src/alerts/evidence.ts) and said in English from them for
 * the CLI, the API's `evidence` and the outputs: the words are the detector's as they were before
 * facts were kept, so scripts reading them see no change. The web UI phrases the same facts in
 * Swedish (test/web/e2e.test.ts, the canary alert).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVIDENCE_KINDS, type Evidence, evidenceInEnglish } from '../../src/alerts/evidence.js';

const CASES: [Evidence, string][] = [
  [{ kind: 'canary', action: 'recording.view' }, 'reached a canary recording (recording.view); canaries are planted calls that no work needs'],
  [{ kind: 'protected-person', action: 'recording.access' }, 'reached a call of a person marked protected (recording.access)'],
  [{ kind: 'own-call', action: 'recording.view' }, "reached a call in which the caller is the account's own person (recording.view)"],
  [{ kind: 'colleague-call', action: 'recording.view' }, 'reached a call in which the caller is a registered member of staff, a call the account did not handle (recording.view)'],
  [
    { kind: 'unexplained' },
    'reached a call that nothing explains: not handled by the account, no other call of the caller handled by it, not in a team it supervises, not found by a subject search, no break-the-glass',
  ],
  [{ kind: 'after-hours', workHours: '07:00-17:00' }, "reached calls outside the account's working hours (07:00-17:00)"],
  [
    { kind: 'volume-hour', count: 13, minutes: 8, calls: 13, persons: 1, limit: 12, usual: { basis: 'own', value: 3.2 } },
    "reached 13 calls in 8 minutes (13 calls of 1 person today); the account's usual day is 3 calls (limit 12 an hour)",
  ],
  [
    { kind: 'volume-day', calls: 41, persons: 40, limit: 40, usual: { basis: 'peers', value: 1 } },
    "reached 41 calls of 40 people today; its peers' usual day is 1 call (limit 40 a day)",
  ],
  [
    { kind: 'volume-day', calls: 1, persons: 1, limit: 0, usual: { basis: 'default' } },
    'reached 1 call of 1 person today; no history yet, so the fixed defaults apply (limit 0 a day)',
  ],
  [
    { kind: 'export-volume', count: 6, limit: 5, usual: { basis: 'default' } },
    'exported or opened the original of 6 calls today; no history yet, so the fixed default applies (limit 5)',
  ],
  [
    { kind: 'export-volume', count: 9, limit: 8, usual: { basis: 'own', value: 2 } },
    "exported or opened the original of 9 calls today; the account's usual day is 2 exports (limit 8)",
  ],
  [{ kind: 'search-persons', count: 21, limit: 20 }, 'searched for 21 people by personnummer or phone number today (limit 20)'],
  [
    { kind: 'search-unfollowed', count: 3 },
    'searched for a person by personnummer or phone number 3 times today without then stating a purpose for any call (a look-up, not a case)',
  ],
  [
    { kind: 'break-glass-starts', count: 4, limit: 3, usual: { basis: 'peers', value: 1 } },
    'started break-the-glass 4 times in 7 days; peers of the role start at most 1 period a week (90th percentile) (limit 3)',
  ],
  [{ kind: 'break-glass-calls', count: 16, limit: 15, usual: { basis: 'default' } }, 'reached 16 calls under one break-the-glass period; the fixed default applies (limit 15)'],
];

test('each kind of evidence is said in the detector’s English words', () => {
  for (const [facts, words] of CASES) assert.equal(evidenceInEnglish(facts), words, facts.kind);
});

test('every kind has a case above, and none says "undefined"', () => {
  assert.deepEqual(
    EVIDENCE_KINDS.filter((k) => !CASES.some(([f]) => f.kind === k)),
    [],
  );
  for (const [facts] of CASES) assert.doesNotMatch(evidenceInEnglish(facts), /undefined|NaN/);
});
