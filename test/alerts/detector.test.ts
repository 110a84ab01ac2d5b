/**
 * The detector's rules, each with cases that must alert and cases that must not. The entries are
 * the shapes the services write (src/audit/catalogue.ts); the facts the rules look up (who handled
 * a call, whose call it is as digests, staff, protected persons, canaries) come from an in-memory
 * `DetectorSources` here: the database-backed one is tested against a real vault in runner.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Detector, joinFindings, type AccountFacts, type DetectorSources, type Finding, type RecordingFacts } from '../../src/alerts/detector.js';
import type { ReadEntry } from '../../src/alerts/entries.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../src/alerts/thresholds.js';
import type { AuditAction } from '../../src/audit/catalogue.js';

const ACCOUNTS: AccountFacts[] = [
  { id: 'n1', name: 'nurse1', role: 'nurse', agent: 'a1', teamAgents: [], workHours: '07:00-17:00', controllerId: 'c' },
  { id: 'n2', name: 'nurse2', role: 'nurse', agent: 'a2', teamAgents: [], workHours: null, controllerId: 'c' },
  { id: 'n3', name: 'nurse3', role: 'nurse', agent: 'a3', teamAgents: [], workHours: null, controllerId: 'c' },
  { id: 'n4', name: 'nurse4', role: 'nurse', agent: 'a4', teamAgents: [], workHours: null, controllerId: 'c' },
  { id: 's1', name: 'super1', role: 'supervisor', agent: null, teamAgents: ['a1', 'a2'], workHours: null, controllerId: 'c' },
  { id: 'd1', name: 'dpo1', role: 'dpo', agent: null, teamAgents: [], workHours: null, controllerId: 'c' },
];

function rec(id: string, agent: string | null, digests: string[]): RecordingFacts {
  return { id, controllerId: 'c', agent, callerDigests: digests, person: digests[0] ?? null };
}

class MemorySources implements DetectorSources {
  readonly recs = new Map<string, RecordingFacts>();
  staff = new Map<string, string[]>([
    ['pn-n1', ['n1']],
    ['pn-n2', ['n2']],
  ]);
  protectedSet = new Set(['pn-vip']);
  canarySet = new Set(['canary']);
  th: Thresholds = DEFAULT_THRESHOLDS;
  /** caller digest → agents who handled a call of that caller */
  handledBy = new Map<string, string[]>();

  constructor() {
    for (const r of [
      rec('r1', 'a1', ['pn-p1']),
      rec('r2', 'a2', ['pn-p2']),
      rec('r3', 'a9', ['pn-p3']),
      rec('canary', 'a77', ['pn-fake']),
      rec('vip', 'a1', ['pn-vip']),
      rec('self', 'a2', ['pn-n1']),
      rec('colleague', 'a1', ['pn-n2']),
      rec('colleague2', 'a2', ['pn-n2']),
    ])
      this.recs.set(r.id, r);
  }
  async accounts(): Promise<Map<string, AccountFacts>> {
    return new Map(ACCOUNTS.map((a) => [a.id, a]));
  }
  async recordings(ids: readonly string[]): Promise<Map<string, RecordingFacts>> {
    for (const id of ids) if (!this.recs.has(id)) this.recs.set(id, rec(id, /^(\w+)-/.exec(id)?.[1] ?? 'a9', [`pn-${id}`]));
    return new Map(ids.map((id) => [id, this.recs.get(id)!]));
  }
  async staffDigests() {
    return this.staff;
  }
  async protectedDigests() {
    return this.protectedSet;
  }
  async canaries() {
    return this.canarySet;
  }
  async thresholds() {
    return this.th;
  }
  async callerKnownTo(r: RecordingFacts, agent: string) {
    return r.callerDigests.some((d) => (this.handledBy.get(d) ?? []).includes(agent));
  }
}

let position = 0;
function entry(action: AuditAction, who: string, at: string | number, extra: Partial<ReadEntry> & { detail?: Record<string, unknown> } = {}): ReadEntry {
  const account = ACCOUNTS.find((a) => a.id === who)!;
  return {
    position: position++,
    time: new Date(at),
    action,
    outcome: 'success',
    actor: { type: 'user', id: who, name: account.name, role: account.role },
    controllerId: 'c',
    detail: {},
    ...extra,
  };
}
const access = (who: string, recordingId: string, at: string | number, extra: Partial<ReadEntry> = {}) => entry('recording.access', who, at, { recordingId, ...extra });

const DAY = 86_400_000;
/** 2026-11-02 10:00 Stockholm (UTC+1), a Monday */
const T0 = Date.parse('2026-11-02T09:00:00Z');

async function run(sources: MemorySources, history: ReadEntry[], window: ReadEntry[], end?: number): Promise<Finding[]> {
  const d = new Detector(sources, 'Europe/Stockholm');
  await d.evaluate(history, true);
  const found = await d.evaluate(window);
  if (end !== undefined) found.push(...(await d.expire(new Date(end))));
  return found;
}
const rules = (findings: Finding[]) => [...new Set(findings.map((f) => f.rule))].sort();

/** `days` ordinary days before T0 for every nurse: `perDay` own calls each, a minute apart */
function ordinaryHistory(perDay: number, days = 10): ReadEntry[] {
  const out: ReadEntry[] = [];
  for (let day = days; day >= 1; day--) {
    for (const n of ACCOUNTS.filter((a) => a.role === 'nurse')) {
      for (let i = 0; i < perDay; i++) out.push(access(n.id, `${n.agent}-d${day}-${i}`, T0 - day * DAY + i * 60_000));
    }
  }
  return out;
}

describe('canary', () => {
  test('any access to a canary alerts at once, and says whether to suspend', async () => {
    const s = new MemorySources();
    s.th = { ...DEFAULT_THRESHOLDS, canarySuspend: true };
    const f = await run(s, [], [entry('recording.view', 'd1', T0, { recordingId: 'canary' })]);
    assert.deepEqual(rules(f), ['canary', 'unexplained']);
    const canary = f.find((x) => x.rule === 'canary')!;
    assert.equal(canary.severity, 'high');
    assert.equal(canary.suspend, true);
    assert.deepEqual(canary.recordings, ['canary']);
    assert.equal(canary.username, 'dpo1');
  });
  test('other recordings raise no canary alert', async () => {
    const f = await run(new MemorySources(), [], [access('n1', 'r1', T0)]);
    assert.deepEqual(rules(f), []);
  });
  test('a denied attempt is not an access', async () => {
    const f = await run(new MemorySources(), [], [{ ...entry('recording.view', 'd1', T0, { recordingId: 'canary' }), outcome: 'denied' }]);
    assert.deepEqual(rules(f), []);
  });
});

describe('protected-person', () => {
  test('a call of a protected person alerts, whoever handled it', async () => {
    const f = await run(new MemorySources(), [], [access('n1', 'vip', T0)]);
    assert.deepEqual(rules(f), ['protected-person']);
  });
  test('a released protection no longer alerts', async () => {
    const s = new MemorySources();
    s.protectedSet = new Set();
    assert.deepEqual(rules(await run(s, [], [access('n1', 'vip', T0)])), []);
  });
});

describe('self-or-colleague', () => {
  test('an account reaching a call of its own person alerts', async () => {
    const f = await run(new MemorySources(), [], [access('n1', 'self', T0, { breakGlassId: 'g1' })]);
    assert.ok(rules(f).includes('self-or-colleague'));
    assert.match(f.find((x) => x.rule === 'self-or-colleague')!.evidence, /own person/);
  });
  test("a supervisor reaching a colleague's call alerts", async () => {
    const f = await run(new MemorySources(), [], [access('s1', 'colleague2', T0)]);
    assert.deepEqual(rules(f), ['self-or-colleague']);
    assert.match(f[0]!.evidence, /registered member of staff/);
  });
  test("the nurse who took a colleague's call may listen to it again", async () => {
    assert.deepEqual(rules(await run(new MemorySources(), [], [access('n1', 'colleague', T0)])), []);
  });
});

describe('volume', () => {
  test("a burst far above the account's usual day alerts, saying what is usual", async () => {
    const window = Array.from({ length: 30 }, (_, i) => access('n1', `a1-burst-${i}`, T0 + i * 40_000));
    const f = await run(new MemorySources(), ordinaryHistory(3), window);
    assert.deepEqual(rules(f), ['volume']);
    const v = f[0]!;
    assert.match(v.evidence, /reached 13 calls in 8 minutes/);
    assert.match(v.evidence, /usual day is 3 calls/);
    assert.ok(new Set(f.map((x) => x.dedupKey)).size === 1, 'one alert a day: later findings join it');
  });
  test('a busy but ordinary day does not alert', async () => {
    const window = Array.from({ length: 11 }, (_, i) => access('n1', `a1-busy-${i}`, T0 + i * 20 * 60_000));
    assert.deepEqual(rules(await run(new MemorySources(), ordinaryHistory(3), window)), []);
  });
  test('an account with no history is judged by its peers, and without peers by the fixed defaults', async () => {
    // no history at all: 40 a day and 20 an hour are allowed
    const spread = (n: number) => Array.from({ length: n }, (_, i) => access('n2', `a2-new-${i}`, T0 + i * 5 * 60_000));
    assert.deepEqual(rules(await run(new MemorySources(), [], spread(40))), []);
    const f = await run(new MemorySources(), [], spread(41));
    assert.deepEqual(rules(f), ['volume']);
    assert.match(f[0]!.evidence, /no history yet/);
  });
});

describe('subject-search', () => {
  const search = (who: string, n: number, at: number) => entry('recordings.list', who, at, { detail: { personnummerHash: `h${n}`, results: 1 } });
  test('searching for many people in a day alerts', async () => {
    const window = Array.from({ length: 11 }, (_, i) => [search('n1', i, T0 + i * 60_000), access('n1', 'r1', T0 + i * 60_000 + 1000)]).flat();
    assert.deepEqual(rules(await run(new MemorySources(), [], window)), ['subject-search']);
  });
  test('look-ups followed by no purpose alert once three have expired', async () => {
    const window = [0, 1, 2].map((i) => search('n2', i, T0 + i * 60_000));
    const f = await run(new MemorySources(), [], window, T0 + 40 * 60_000);
    assert.deepEqual(rules(f), ['subject-search']);
    assert.match(f[0]!.evidence, /without then stating a purpose/);
  });
  test('searches each followed by a stated purpose do not alert', async () => {
    const window = [0, 1, 2].flatMap((i) => [search('n2', i, T0 + i * 60_000), access('n2', 'r2', T0 + i * 60_000 + 5000)]);
    assert.deepEqual(rules(await run(new MemorySources(), [], window, T0 + 3 * 3_600_000)), []);
  });
});

describe('unexplained', () => {
  test("a privacy officer's access that no case explains alerts", async () => {
    assert.deepEqual(rules(await run(new MemorySources(), [], [access('d1', 'r3', T0)])), ['unexplained']);
  });
  test('a subject search that found the call explains it', async () => {
    const window = [entry('subject.find', 'd1', T0, { detail: { personnummerHash: 'x', found: ['r3'] } }), access('d1', 'r3', T0 + 60_000)];
    assert.deepEqual(rules(await run(new MemorySources(), [], window)), []);
  });
  test("the handling agent, the agent's supervisor, and an agent who handled another call of the caller are explained", async () => {
    const s = new MemorySources();
    s.handledBy.set('pn-p3', ['a3']);
    assert.deepEqual(rules(await run(s, [], [access('n1', 'r1', T0), access('s1', 'r2', T0), access('n3', 'r3', T0)])), []);
  });
  test('break-the-glass is explained by itself (its own rule watches it)', async () => {
    assert.deepEqual(rules(await run(new MemorySources(), [], [access('n4', 'r3', T0, { breakGlassId: 'g' })])), []);
  });
});

describe('after-hours', () => {
  test('an access well outside the working hours alerts', async () => {
    // 22:00 in Stockholm
    const f = await run(new MemorySources(), [], [access('n1', 'r1', Date.parse('2026-11-02T21:00:00Z'))]);
    assert.deepEqual(rules(f), ['after-hours']);
    assert.match(f[0]!.evidence, /07:00-17:00/);
  });
  test('within the hours and their grace, or for an account without hours, nothing', async () => {
    const window = [
      access('n1', 'r1', Date.parse('2026-11-02T15:50:00Z')),
      access('n1', 'r1', Date.parse('2026-11-02T16:20:00Z')),
      access('n2', 'r2', Date.parse('2026-11-02T02:00:00Z')),
    ];
    assert.deepEqual(rules(await run(new MemorySources(), [], window)), []);
  });
});

describe('break-glass', () => {
  const start = (who: string, id: string, at: number) => entry('break-glass.start', who, at, { breakGlassId: id });
  test("starting it far more often than the role's peers alerts", async () => {
    const history = [start('n2', 'p1', T0 - 10 * DAY), start('n3', 'p2', T0 - 9 * DAY)];
    const window = [0, 1, 2, 3].map((i) => start('n1', `g${i}`, T0 + (i * DAY) / 4));
    assert.deepEqual(rules(await run(new MemorySources(), history, window)), ['break-glass']);
  });
  test('one emergency does not', async () => {
    assert.deepEqual(rules(await run(new MemorySources(), [], [start('n1', 'g', T0), access('n1', 'r3', T0 + 1000, { breakGlassId: 'g' })])), []);
  });
  test('reaching many calls under one period alerts', async () => {
    const window = [start('n1', 'g', T0), ...Array.from({ length: 16 }, (_, i) => access('n1', `a9-${i}`, T0 + (i + 1) * 10_000, { breakGlassId: 'g' }))];
    const f = await run(new MemorySources(), [], window);
    assert.deepEqual(rules(f), ['break-glass']);
    assert.match(f.at(-1)!.evidence, /16 calls under one break-the-glass period/);
  });
});

describe('export-volume', () => {
  const exp = (who: string, id: string, at: number) => entry('recording.export', who, at, { recordingId: id });
  test('exporting far more than usual alerts', async () => {
    const s = new MemorySources();
    const window = Array.from({ length: 11 }, (_, i) => [
      entry('subject.find', 'd1', T0, { detail: { personnummerHash: 'x', found: [`e-${i}`] } }),
      exp('d1', `e-${i}`, T0 + i * 60_000),
    ]).flat();
    assert.deepEqual(rules(await run(s, [], window)), ['export-volume']);
  });
  test('a few exports do not', async () => {
    const window = Array.from({ length: 5 }, (_, i) => [
      entry('subject.find', 'd1', T0, { detail: { personnummerHash: 'x', found: [`e-${i}`] } }),
      exp('d1', `e-${i}`, T0 + i * 60_000),
    ]).flat();
    assert.deepEqual(rules(await run(new MemorySources(), [], window)), []);
  });
});

test('the muted history finds nothing, however it looks', async () => {
  const d = new Detector(new MemorySources(), 'Europe/Stockholm');
  assert.deepEqual(await d.evaluate([access('d1', 'canary', T0), access('n1', 'vip', T0)], true), []);
});

test('findings of one rule, account and window join into one, with every entry and recording', async () => {
  const window = Array.from({ length: 30 }, (_, i) => access('n1', `a1-join-${i}`, T0 + i * 40_000));
  const found = await run(new MemorySources(), ordinaryHistory(3), window);
  assert.ok(found.length > 1, 'several findings past the limit');
  const joined = joinFindings(found);
  assert.equal(joined.length, 1);
  assert.deepEqual(joined[0]!.entries.sort(), found.flatMap((f) => f.entries).sort());
  assert.equal(joined[0]!.evidence, found.at(-1)!.evidence, 'the latest evidence');
});
