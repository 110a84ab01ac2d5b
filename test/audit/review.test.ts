/**
 * The documented log review (loggkontroll): the unit of an access, the month in Europe/Stockholm,
 * the reproducible and rule-weighted sample, outcomes with scrubbed notes, the report, and the
 * same entries from the CLI and HTTP, for auditors only. On SQLite and PostgreSQL.
 *
 * The accesses are planted as audit entries written at chosen times (the log takes a time), and
 * alerts as rows of `alerts`, as the detector would write them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AccessGrouper, accessesOf, drawSample, periodWindow, type AccessEntry, type AccessUnit } from '../../src/audit/review.js';
import { cli } from '../helpers.js';
import { syntheticPersonnummer } from '../fixtures/audio.js';
import { signedInUser, type TestServer, type TestUser } from '../http/harness.js';
import { auditEvents, startServer, type Dialect } from '../subject/world.js';

const API = '/api/v1';
const hex = (i: number) => i.toString(16).padStart(32, '0');

test('a month is bounded by midnight in Europe/Stockholm, summer and winter', () => {
  assert.deepEqual(periodWindow('2026-11'), { period: '2026-11', timeZone: 'Europe/Stockholm', from: '2026-10-31T23:00:00.000Z', to: '2026-11-30T23:00:00.000Z' });
  assert.deepEqual(periodWindow('2026-07'), { period: '2026-07', timeZone: 'Europe/Stockholm', from: '2026-06-30T22:00:00.000Z', to: '2026-07-31T22:00:00.000Z' });
  assert.deepEqual(periodWindow('2026-12'), { period: '2026-12', timeZone: 'Europe/Stockholm', from: '2026-11-30T23:00:00.000Z', to: '2026-12-31T23:00:00.000Z' });
  assert.equal(periodWindow('2026-10')!.to, '2026-10-31T23:00:00.000Z', 'October ends in winter time');
  assert.deepEqual(periodWindow('2026-11', 'America/New_York'), {
    period: '2026-11',
    timeZone: 'America/New_York',
    from: '2026-11-01T04:00:00.000Z',
    to: '2026-12-01T05:00:00.000Z',
  });
  for (const bad of ['2026-13', '2026-1', '26-11', '2026-11-01', '']) assert.equal(periodWindow(bad), undefined, bad);
});

function entry(position: number, action: string, actorId: string, recordingId: string, time: string, extra: Partial<AccessEntry> = {}): AccessEntry {
  return { position, time, action, actor: { type: 'user', id: actorId, name: actorId, role: 'nurse' }, recordingId, ...extra };
}

test('one access is one account, one recording, one day: its plays and a second purpose that day join it, the next day is another', () => {
  const g = new AccessGrouper(new Map([[4, ['volume']]]));
  g.add(entry(1, 'recording.view', 'u1', 'r1', '2026-11-02T08:00:00.000Z'));
  g.add(entry(2, 'recording.access', 'u1', 'r1', '2026-11-02T08:00:01.000Z', { purpose: 'patient-follow-up', detail: { accessId: 'a1', rendition: 'redacted' } }));
  g.add(entry(3, 'recording.play', 'u1', 'r1', '2026-11-02T08:00:02.000Z', { purpose: 'patient-follow-up', detail: { accessId: 'a1' } }));
  g.add(entry(4, 'recording.play', 'u1', 'r1', '2026-11-02T08:00:03.000Z', { purpose: 'patient-follow-up', detail: { accessId: 'a1' } }));
  g.add(entry(5, 'recording.access', 'u1', 'r1', '2026-11-02T15:00:00.000Z', { purpose: 'complaint', detail: { accessId: 'a2', rendition: 'original' } }));
  // 23:30 UTC on the 2nd is the 3rd in Stockholm
  g.add(entry(6, 'recording.access', 'u1', 'r1', '2026-11-02T23:30:00.000Z', { purpose: 'complaint', detail: { accessId: 'a3' } }));
  g.add(entry(7, 'recording.access', 'u2', 'r1', '2026-11-02T09:00:00.000Z', { purpose: 'complaint', breakGlassId: 'bg' }));
  g.add({ ...entry(8, 'recording.export', 'x', 'r2', '2026-11-02T09:00:00.000Z'), actor: { type: 'cli', name: 'root' } });
  g.add({ ...entry(9, 'recording.view', 'x', 'r2', '2026-11-02T09:00:00.000Z'), actor: { type: 'system', name: 'redaction' } });
  g.add({ ...entry(10, 'recording.view', 'd', 'r2', '2026-11-02T09:00:00.000Z'), actor: { type: 'user', id: 'd', name: 'dpo', role: 'dpo' } });
  assert.deepEqual(g.units(), [
    { position: 2, first: 1, entries: 5, reasons: ['alert:volume', 'original'] },
    { position: 6, first: 6, entries: 1, reasons: [] },
    { position: 7, first: 7, entries: 1, reasons: ['break-glass'] },
    { position: 8, first: 8, entries: 1, reasons: ['role:operator'] },
    { position: 10, first: 10, entries: 1, reasons: ['role:dpo'] },
  ] satisfies AccessUnit[]);
});

test('the same accesses and seed give the same sample; another seed another; half is rule-weighted', () => {
  const units: AccessUnit[] = Array.from({ length: 60 }, (_, i) => ({ position: i * 7, first: i * 7, entries: 3, reasons: i % 10 === 0 ? ['break-glass'] : [] }));
  const a = drawSample(units, hex(1), 10);
  assert.deepEqual(drawSample([...units].reverse(), hex(1), 10), a, 'the order the accesses are read in does not matter');
  assert.deepEqual(drawSample(units, hex(1), 10), a);
  assert.notDeepEqual(drawSample(units, hex(2), 10).drawn, a.drawn);
  assert.equal(a.drawn.length, 10);
  assert.equal(a.weighted, 5);
  assert.equal(a.random, 5);
  assert.equal(new Set(a.drawn.map((d) => d.position)).size, 10, 'no access twice');
  assert.equal(a.drawn.filter((d) => d.chosenBy === 'break-glass').length, 5);
  // fewer flagged than half: all of them, the rest at random; more asked than there are: all
  assert.equal(drawSample(units.slice(0, 15), hex(3), 10).weighted, 2);
  assert.equal(drawSample(units.slice(0, 4), hex(3), 10).drawn.length, 4);
});

test('an access in the evidence of an alert is drawn far more often than another', () => {
  // 100 accesses: 10 in an alert's evidence, 30 of the original rendition, 60 plain; 200 seeds of 10
  const units: AccessUnit[] = Array.from({ length: 100 }, (_, i) => ({
    position: i,
    first: i,
    entries: 1,
    reasons: i < 10 ? ['alert:volume'] : i < 40 ? ['original'] : [],
  }));
  const hits = new Array(100).fill(0);
  for (let s = 0; s < 200; s++) for (const d of drawSample(units, hex(1000 + s), 10).drawn) hits[d.position] += 1;
  const mean = (from: number, to: number) => hits.slice(from, to).reduce((n, h) => n + h, 0) / (to - from);
  const alert = mean(0, 10);
  const original = mean(10, 40);
  const plain = mean(40, 100);
  assert.ok(alert > 2 * original, `alert ${alert} vs original ${original}`);
  assert.ok(original > plain, `original ${original} vs plain ${plain}`);
  assert.ok(alert > 5 * plain, `alert ${alert} vs plain ${plain}`);
});

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  describe(`the log review on ${dialect}`, () => {
    let server: TestServer;
    let databaseUrl: string;
    let auditor: TestUser;
    let nurse: TestUser;
    let dpo: TestUser;
    let admin: TestUser;
    const env = () => ({ CALLVAULT_DATABASE_URL: databaseUrl || undefined });
    /** the anchors of the planted November accesses that rules flag, by reason */
    const flagged: Record<string, number> = {};
    let novemberAccesses = 0;
    const personnummer = syntheticPersonnummer(4711);

    async function append(event: Record<string, unknown>, time: string): Promise<number> {
      // the log checks each event against the catalogue: these are entries the services write
      return server.vault.audit.append(event as never, new Date(time));
    }

    /** one access as the web UI makes it: view, purpose, three ranges played; returns the access entry's position */
    async function plantAccess(actor: Record<string, unknown>, recordingId: string, time: string, extra: { breakGlassId?: string; rendition?: string } = {}): Promise<number> {
      const t = Date.parse(time);
      const at = (s: number) => new Date(t + s * 1000).toISOString();
      const top = { actor, recordingId, controllerId: 'region-a', outcome: 'success', ...(extra.breakGlassId ? { breakGlassId: extra.breakGlassId } : {}) };
      const accessId = randomUUID();
      const granted = { accessId, rendition: extra.rendition ?? 'redacted' };
      await append({ ...top, action: 'recording.view', detail: { identifiers: 'hidden' } }, at(0));
      const anchor = await append({ ...top, action: 'recording.access', purpose: 'patient-follow-up', detail: granted }, at(1));
      for (let i = 0; i < 3; i++)
        await append({ ...top, action: 'recording.play', purpose: 'patient-follow-up', detail: { ...granted, range: { start: i * 100, end: i * 100 + 100 } } }, at(2 + i));
      return anchor;
    }

    before(async () => {
      ({ server, databaseUrl } = await startServer(dialect));
      auditor = await signedInUser(server, { role: 'auditor' });
      nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
      dpo = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
      admin = await signedInUser(server, { role: 'admin' });
      const anna = { type: 'user', id: randomUUID(), name: 'anna', role: 'nurse' };
      const erik = { type: 'user', id: randomUUID(), name: 'erik', role: 'nurse' };
      const dora = { type: 'user', id: randomUUID(), name: 'dora', role: 'dpo' };
      const recs = Array.from({ length: 30 }, () => randomUUID());
      // November: anna's 30 calls, one a day; a second purpose the same day joins the first
      for (const [i, r] of recs.entries()) await plantAccess(anna, r, `2026-11-${String((i % 28) + 1).padStart(2, '0')}T09:00:00.000Z`);
      await plantAccess(anna, recs[0]!, '2026-11-01T14:00:00.000Z');
      novemberAccesses += 30;
      // 00:30 on 1 November in Stockholm is in November; 00:30 on 1 December is not
      await plantAccess(erik, recs[1]!, '2026-10-31T23:30:00.000Z');
      await plantAccess(erik, recs[2]!, '2026-11-30T23:30:00.000Z');
      novemberAccesses += 1;
      // a refused access is no access
      await append(
        { actor: erik, recordingId: recs[3], controllerId: 'region-a', outcome: 'denied', action: 'recording.access', detail: { reason: 'scope' } },
        '2026-11-10T10:00:00.000Z',
      );
      flagged['role:dpo'] = await plantAccess(dora, recs[4]!, '2026-11-12T10:00:00.000Z');
      flagged['break-glass'] = await plantAccess(erik, recs[5]!, '2026-11-13T10:00:00.000Z', { breakGlassId: randomUUID() });
      // erik's access on the 14th is the evidence of an open volume alert (one of its plays is named)
      const alerted = await plantAccess(erik, recs[6]!, '2026-11-14T10:00:00.000Z');
      flagged['alert:volume'] = alerted;
      novemberAccesses += 3;
      // October: a few accesses for the CLI's review
      for (let i = 0; i < 4; i++) await plantAccess(erik, recs[10 + i]!, `2026-10-0${i + 2}T10:00:00.000Z`);

      const alert = (rule: string, state: 'open' | 'closed', createdAt: string, entries: number[], outcome: string | null = null) => ({
        id: randomUUID(),
        rule,
        severity: 'high',
        user_id: erik.id,
        username: 'erik',
        role: 'nurse',
        controllers: 'region-a',
        dedup_key: randomUUID(),
        state,
        created_at: createdAt,
        updated_at: createdAt,
        evidence: 'planted by the test',
        entries: JSON.stringify(entries),
        recordings: '[]',
        outcome,
        note: null,
        resolved_by: null,
        resolved_at: null,
      });
      await server.vault.database.db
        .insertInto('alerts')
        .values([
          alert('volume', 'open', '2026-11-14T11:00:00.000Z', [alerted + 2]),
          alert('canary', 'closed', '2026-11-20T11:00:00.000Z', [], 'misuse'),
          alert('after-hours', 'closed', '2026-10-20T11:00:00.000Z', [], 'justified'),
        ])
        .execute();
    });

    after(async () => {
      await server?.close();
    });

    test('only auditors draw, read and check; every refusal is in the log', async () => {
      const before = await server.vault.audit.size();
      const sampleId = randomUUID();
      for (const u of [nurse, dpo, admin]) {
        assert.equal((await u.client.post(`${API}/audit/review/2026-11/sample`, { count: 5 })).status, 403);
        assert.equal((await u.client.get(`${API}/audit/review/2026-11`)).status, 403);
        assert.equal((await u.client.post(`${API}/audit/review/2026-11/samples/${sampleId}`, { outcome: 'justified', note: 'looked fine' })).status, 403);
        assert.equal((await u.client.get(`${API}/audit/review/2026-11/report`)).status, 403);
      }
      const events = (await auditEvents(server)).slice(before);
      assert.deepEqual(
        events.map((e) => `${e.action}:${e.outcome}:${e.detail?.reason}`),
        [nurse, dpo, admin].flatMap(() => ['review.sample:denied:role', 'review.read:denied:role', 'review.outcome:denied:role', 'review.read:denied:role']),
      );
      assert.equal(await server.vault.database.db.selectFrom('review_periods').select('period').executeTakeFirst(), undefined, 'nothing was drawn');
    });

    test("the auditor draws November's sample once: the flagged accesses by their rule, the rest at random, reproducible from the seed", async () => {
      const empty = await auditor.client.get(`${API}/audit/review/2026-11`);
      assert.equal(empty.status, 200);
      assert.equal(empty.json.seed, null);
      assert.deepEqual(empty.json.samples, []);
      assert.equal((await auditor.client.post(`${API}/audit/review/2027-01/sample`, { count: 5 })).status, 400, 'a month not begun');
      assert.equal((await auditor.client.post(`${API}/audit/review/2026-09/sample`, { count: 5 })).status, 400, 'a month without accesses');
      assert.equal((await auditor.client.post(`${API}/audit/review/2026-13/sample`, { count: 5 })).status, 400);

      const before = await server.vault.audit.size();
      const res = await auditor.client.post(`${API}/audit/review/2026-11/sample`, { count: 8 });
      assert.equal(res.status, 201, res.body.toString());
      const q = res.json;
      assert.match(q.seed, /^[0-9a-f]{32}$/);
      assert.equal(q.drawnBy, auditor.username);
      assert.equal(q.samples.length, 8);
      assert.equal(q.method.accesses, novemberAccesses);
      assert.equal(q.method.weighted, 3, 'three accesses are flagged: all three are drawn by their rule');
      assert.equal(q.method.random, 5);
      assert.deepEqual(q.method.flagged, { 'alert:volume': 1, 'break-glass': 1, 'role:dpo': 1 });
      for (const [reason, position] of Object.entries(flagged)) {
        const s = q.samples.find((x: any) => x.position === position);
        assert.ok(s, `the ${reason} access is sampled`);
        assert.equal(s.chosenBy, reason);
        assert.equal(s.action, 'recording.access', 'an access is named by the entry that states its purpose');
        assert.equal(s.purpose, 'patient-follow-up');
      }
      const glass = q.samples.find((x: any) => x.chosenBy === 'break-glass');
      assert.equal(glass.breakGlass, true);
      assert.equal(q.samples.find((x: any) => x.chosenBy === 'role:dpo').role, 'dpo');
      for (const s of q.samples) {
        assert.ok(s.time >= '2026-10-31T23:00:00.000Z' && s.time < '2026-11-30T23:00:00.000Z', `${s.time} is in November in Stockholm`);
        assert.equal(s.outcome, null);
      }
      const entries = (await auditEvents(server)).slice(before);
      assert.deepEqual(
        entries.map((e) => [e.action, e.outcome, e.detail]),
        [['review.sample', 'success', { period: '2026-11', random: 5, weighted: 3 }]],
      );

      // drawn once: a second draw is refused, and recorded
      const again = await auditor.client.post(`${API}/audit/review/2026-11/sample`, { count: 8 });
      assert.equal(again.status, 409);
      assert.equal(again.json.error.code, 'CV_CONFLICT');
      const last = (await auditEvents(server)).at(-1);
      assert.deepEqual([last.action, last.outcome, last.detail], ['review.sample', 'failure', { period: '2026-11', reason: 'CV_CONFLICT' }]);

      // the same log and seed give the same sample
      const window = periodWindow('2026-11')!;
      const redrawn = drawSample(await accessesOf(server.vault.database.db, window, q.method.logSize), q.seed, 8).drawn;
      assert.deepEqual(
        redrawn.map((d) => [d.position, d.chosenBy]),
        q.samples.map((s: any) => [s.position, s.chosenBy]),
      );
      const stored = await server.vault.database.db.selectFrom('review_periods').selectAll().where('period', '=', '2026-11').executeTakeFirstOrThrow();
      assert.equal(stored.seed, q.seed);
      assert.equal(JSON.parse(stored.method).requested, 8);
    });

    test('each sampled access gets an outcome and a note, the note with identifiers as labels; a changed outcome is recorded again', async () => {
      const q = (await auditor.client.get(`${API}/audit/review/2026-11`)).json;
      const target = q.samples.find((s: any) => s.chosenBy === 'alert:volume');
      assert.equal((await auditor.client.post(`${API}/audit/review/2026-11/samples/${target.id}`, { outcome: 'maybe', note: 'no idea' })).status, 400);
      assert.equal((await auditor.client.post(`${API}/audit/review/2026-11/samples/${target.id}`, { outcome: 'unclear', note: '  ' })).status, 400);
      assert.equal((await auditor.client.post(`${API}/audit/review/2026-11/samples/${randomUUID()}`, { outcome: 'unclear', note: 'not in any sample' })).status, 404);
      assert.equal((await auditor.client.post(`${API}/audit/review/2026-10/samples/${target.id}`, { outcome: 'unclear', note: 'another month' })).status, 404);

      const before = await server.vault.audit.size();
      const res = await auditor.client.post(`${API}/audit/review/2026-11/samples/${target.id}`, { outcome: 'unjustified', note: `Erik lyssnade på ${personnummer} utan ärende` });
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(res.json.outcome, 'unjustified');
      assert.equal(res.json.note, 'Erik lyssnade på [PERSONNUMMER] utan ärende');
      assert.equal(res.json.reviewedBy, auditor.username);
      const row = await server.vault.database.db.selectFrom('review_samples').selectAll().where('id', '=', target.id).executeTakeFirstOrThrow();
      assert.equal(row.note, 'Erik lyssnade på [PERSONNUMMER] utan ärende', 'stored as a label');
      assert.equal(row.reviewed_by, auditor.id);
      const entries = (await auditEvents(server)).slice(before);
      assert.deepEqual(
        entries.map((e) => [e.action, e.outcome, e.actor.id, e.detail]),
        [['review.outcome', 'success', auditor.id, { period: '2026-11', sampleId: target.id, position: target.position, outcome: 'unjustified' }]],
      );
      const all = JSON.stringify(await auditEvents(server));
      assert.ok(!all.includes(personnummer) && !all.includes(personnummer.replace('-', '')), 'the personnummer is nowhere in the log');

      // changed: allowed, and both outcomes are in the log
      const changed = await auditor.client.post(`${API}/audit/review/2026-11/samples/${target.id}`, { outcome: 'justified', note: 'the complaint case explains it' });
      assert.equal(changed.json.outcome, 'justified');
      const again = await auditor.client.post(`${API}/audit/review/2026-11/samples/${target.id}`, { outcome: 'unjustified', note: 'the complaint was about another call' });
      assert.equal(again.json.outcome, 'unjustified');
      const outcomes = (await auditEvents(server)).filter((e) => e.action === 'review.outcome' && e.outcome === 'success' && e.detail.sampleId === target.id);
      assert.deepEqual(
        outcomes.map((e) => e.detail.outcome),
        ['unjustified', 'justified', 'unjustified'],
      );
    });

    test('the report says how many accesses, how drawn, how many checked with what outcome, the alerts of the month and who reviewed', async () => {
      const q = (await auditor.client.get(`${API}/audit/review/2026-11`)).json;
      const plain = q.samples.find((s: any) => s.chosenBy === 'random');
      assert.equal((await auditor.client.post(`${API}/audit/review/2026-11/samples/${plain.id}`, { outcome: 'justified', note: 'her own caller, follow-up' })).status, 200);

      const before = await server.vault.audit.size();
      const res = await auditor.client.get(`${API}/audit/review/2026-11/report`);
      assert.equal(res.status, 200, res.body.toString());
      const r = res.json;
      const last = (await auditEvents(server)).slice(before);
      assert.deepEqual(
        last.map((e) => [e.action, e.detail]),
        [['review.read', { period: '2026-11', what: 'report' }]],
      );
      // the accesses now: the review's own entries are no accesses
      assert.equal(r.accesses, novemberAccesses);
      assert.equal(r.sampled, 8);
      assert.deepEqual(r.chosenBy, { random: 5, 'alert:volume': 1, 'break-glass': 1, 'role:dpo': 1 });
      assert.equal(r.checked, 2);
      assert.deepEqual(r.outcomes, { justified: 1, unjustified: 1, unclear: 0 });
      assert.deepEqual(r.reviewers, [{ reviewer: auditor.username, checked: 2 }]);
      assert.equal(r.drawn.reproduced, true);
      assert.equal(r.drawn.drawnBy, auditor.username);
      assert.deepEqual(r.alerts, [
        { rule: 'canary', raised: 1, open: 0, closed: 1, outcomes: { misuse: 1 } },
        { rule: 'volume', raised: 1, open: 1, closed: 0, outcomes: {} },
      ]);
      assert.equal(r.samples.length, 8);

      // a month without a draw: its accesses and alerts, nothing sampled
      const october = (await auditor.client.get(`${API}/audit/review/2026-10/report`)).json;
      assert.equal(october.drawn, null);
      assert.equal(october.accesses, 4);
      assert.deepEqual(october.alerts, [{ rule: 'after-hours', raised: 1, open: 0, closed: 1, outcomes: { justified: 1 } }]);
    });

    test('the CLI draws, checks and reports through the same service, writing the same entries', async () => {
      const data = ['--data', server.dataDir];
      const before = await server.vault.audit.size();
      const drawn = await cli([...data, 'audit', 'review', 'sample', '--period', '2026-10', '--count', '3', '--json'], env());
      assert.equal(drawn.code, 0, drawn.stderr);
      assert.match(drawn.json.seed, /^[0-9a-f]{32}$/);
      assert.equal(drawn.json.samples.length, 3);
      assert.deepEqual(Object.keys(drawn.json.samples[0]).sort(), Object.keys((await auditor.client.get(`${API}/audit/review/2026-10`)).json.samples[0]).sort());
      const id = drawn.json.samples[0].id;
      const checked = await cli([...data, 'audit', 'review', 'outcome', id, '--outcome', 'unclear', '--note', `ask about ${personnummer}`, '--json'], env());
      assert.equal(checked.code, 0, checked.stderr);
      assert.equal(checked.json.note, 'ask about [PERSONNUMMER]');
      const report = await cli([...data, 'audit', 'review', 'report', '--period', '2026-10', '--json'], env());
      assert.equal(report.code, 0, report.stderr);
      assert.equal(report.json.checked, 1);
      assert.deepEqual(report.json.outcomes, { justified: 0, unjustified: 0, unclear: 1 });
      assert.equal(report.json.drawn.reproduced, true);
      const text = await cli([...data, 'audit', 'review', 'report', '--period', '2026-10'], env());
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /accesses in the period: 4/);
      assert.match(text.stdout, /checked: 1 of 3/);
      assert.match(text.stdout, /after-hours: 1 raised, 0 open, 1 closed; outcomes justified 1/);
      const again = await cli([...data, 'audit', 'review', 'sample', '--period', '2026-10', '--count', '3'], env());
      assert.equal(again.code, 1);
      assert.match(again.stderr, /drawn already.*CV_CONFLICT/);
      assert.equal((await cli([...data, 'audit', 'review', 'sample', '--period', '2026-1', '--count', '3'], env())).code, 2);

      // the CLI's entries are the HTTP's, but for who wrote them
      const shape = (e: any) => [
        e.action,
        e.outcome,
        Object.keys(e.detail ?? {})
          .sort()
          .join(','),
      ];
      // (the auditor's one read above, to compare the sample's fields, left out)
      const cliEntries = (await auditEvents(server)).slice(before).filter((e) => e.actor.id !== auditor.id);
      assert.ok(cliEntries.every((e) => e.actor.type === 'cli'));
      assert.deepEqual(cliEntries.map(shape), [
        ['review.sample', 'success', 'period,random,weighted'],
        ['review.outcome', 'success', 'outcome,period,position,sampleId'],
        ['review.read', 'success', 'period,what'],
        ['review.read', 'success', 'period,what'],
        ['review.sample', 'failure', 'period,reason'],
      ]);
      const httpEntries = (await auditEvents(server)).filter((e) => e.actor.id === auditor.id && e.action.startsWith('review.') && e.outcome !== 'denied');
      for (const s of cliEntries.map(shape))
        assert.ok(
          httpEntries.map(shape).some((h) => JSON.stringify(h) === JSON.stringify(s)),
          `HTTP wrote ${s.join(' ')} too`,
        );
    });
  });
}
