/**
 * The breach report (GDPR art. 33/34) on SQLite and PostgreSQL, against a fixture of known
 * persons: its counts per controller for each scope (key, controller, blob prefix, account) and
 * window, the privacy officer's reach over HTTP, the audit entry it writes (counts, never
 * identifiers), and the subjects file of the CLI (mode 0600, the persons in clear, never on
 * stdout or in the log), whose decrypted persons match the blind-index counts.
 *
 * The fixture, uploaded by recorders as a telephony platform would. P1…P4 are personnummer, T1…T4
 * phone numbers; a transcript speaks the synthetic call's own personnummer and number (PC, TC):
 *
 *   A1  region-a  a1  P1 T1  transcript  2026-01-10
 *   A2  region-a  a2  P1 T2              2026-01-20
 *   A3  region-a  a1  P2 T1              2026-02-05
 *   A4  region-a  a2  P3     transcript  2026-02-15
 *   A5  region-a  a1     T3              (no start: imported now)
 *   B1  region-b  b1  P1 T1  transcript  2026-01-12
 *   B2  region-b  b1  P4 T4              2026-02-01
 *
 * region-a: 5 recordings, personnummer P1 P2 P3 (3), phones T1 T2 T3 (3), 2 transcripts;
 * region-b: 2 recordings, P1 P4, T1 T4 (P1 and T1 count at both controllers).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers.js';
import { createToken } from '../../src/identities/tokens.js';
import { addController } from '../../src/tenancy/tenancy.js';
import { normalizePersonnummer, normalizePhone } from '../../src/identifiers/normalize.js';
import { syntheticPersonnummer, syntheticPhone } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { assertNoLeak, callVariants, type SyntheticCall } from '../http/fixtures.js';
import { signedInUser, upload, type TestUser } from '../http/harness.js';
import { auditEvents, startServer, type Dialect } from '../subject/world.js';
import type { TestServer } from '../http/harness.js';

const API = '/api/v1';
const NAMES = ['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2'] as const;
type Name = (typeof NAMES)[number];

for (const [dialect, seed] of [
  ['sqlite', 71],
  ['postgres', 72],
] as [Dialect, number][]) {
  describe(`breach report on ${dialect}`, () => {
    let server: TestServer;
    let databaseUrl: string;
    let call: SyntheticCall;
    const ids = {} as Record<Name, string>;
    const P = [1, 2, 3, 4].map((i) => syntheticPersonnummer(seed * 10 + i));
    const T = [1, 2, 3, 4].map((i) => syntheticPhone(seed * 10 + i));
    let dpoA: TestUser;
    let nurseA: TestUser;
    let auditor: TestUser;
    let keyA: string;
    const env = () => ({ CALLVAULT_DATABASE_URL: databaseUrl || undefined });
    const secrets = () => [
      ...P,
      ...T,
      ...P.map(normalizePersonnummer),
      ...T.map(normalizePhone),
      call.personnummer,
      normalizePersonnummer(call.personnummer),
      normalizePhone(call.phone),
    ];

    before(async () => {
      ({ server, databaseUrl } = await startServer(dialect));
      const vault = server.vault;
      await addController(vault, 'region-b', 'Region B');
      const made = await callVariants(seed, NAMES.length);
      call = made.call;
      const tokenA = await createToken(vault, { name: 'recorder-a', scope: 'ingest', controllerId: 'region-a', days: 1 });
      const tokenB = await createToken(vault, { name: 'recorder-b', scope: 'ingest', controllerId: 'region-b', days: 1 });
      const transcript = verboseJson(call).json;
      const spec: Record<Name, [string, Record<string, unknown>, boolean]> = {
        A1: [tokenA.token, { personnummer: P[0], caller: T[0], agent: 'a1', startedAt: '2026-01-10T08:00:00Z' }, true],
        A2: [tokenA.token, { personnummer: P[0], caller: T[1], agent: 'a2', startedAt: '2026-01-20T08:00:00Z' }, false],
        A3: [tokenA.token, { personnummer: P[1], caller: T[0], agent: 'a1', startedAt: '2026-02-05T08:00:00Z' }, false],
        A4: [tokenA.token, { personnummer: P[2], agent: 'a2', startedAt: '2026-02-15T08:00:00Z' }, true],
        A5: [tokenA.token, { caller: T[2], agent: 'a1' }, false],
        B1: [tokenB.token, { personnummer: P[0], caller: T[0], agent: 'b1', startedAt: '2026-01-12T08:00:00Z' }, true],
        B2: [tokenB.token, { personnummer: P[3], caller: T[3], agent: 'b1', startedAt: '2026-02-01T08:00:00Z' }, false],
      };
      for (const [i, name] of NAMES.entries()) {
        const [token, metadata, withTranscript] = spec[name];
        const res = await upload(server, token, made.wavs[i]!, { direction: 'inbound', ...metadata }, withTranscript ? transcript : undefined, 'application/json');
        assert.equal(res.status, 201, JSON.stringify(res.json));
        ids[name] = res.json.id;
      }
      keyA = (await vault.keys.list()).find((k) => k.controllerId === 'region-a' && k.status === 'active')!.keyId;
      dpoA = await signedInUser(server, { role: 'dpo', controllerId: 'region-a' });
      nurseA = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
      auditor = await signedInUser(server, { role: 'auditor' });
    });
    after(async () => {
      await server?.close();
    });

    const report = async (body: Record<string, unknown>, user = dpoA) => {
      const res = await user.client.post(`${API}/breach/report`, body);
      assert.equal(res.status, 200, res.body.toString());
      return res.json;
    };
    const operatorReport = async (args: string[]) => {
      const r = await cli(['--data', server.dataDir, 'breach', 'report', '--json', ...args], env());
      assert.equal(r.code, 0, r.stderr);
      return r.json;
    };
    const byController = (r: any, id: string) => r.controllers.find((c: any) => c.controllerId === id);

    test('by controller: recordings, exact persons by personnummer and phone, categories, time span, exposure "depends", IMY fields', async () => {
      const r = await operatorReport(['--controller', 'region-a']);
      assert.equal(r.scope.kind, 'controller');
      assert.match(r.scope.window, /started_at.*imported_at/);
      assert.deepEqual(
        r.controllers.map((c: any) => c.controllerId),
        ['region-a'],
      );
      const a = r.controllers[0];
      assert.equal(a.recordings, 5);
      assert.equal(a.noLongerStored, 0);
      assert.deepEqual(a.byKey, { [keyA]: 5 });
      assert.deepEqual(a.persons.personnummer.inMetadata, 3, 'P1 P2 P3');
      assert.deepEqual(a.persons.phone.inMetadata, 3, 'T1 T2 T3');
      // both transcripts speak the same call: one personnummer (and its number) however often spoken
      assert.deepEqual(a.persons.personnummer.spokenInCalls, 1, 'PC, spoken in A1 and A4');
      assert.deepEqual(a.persons.phone.spokenInCalls, 1, 'TC, spoken in A1 and A4');
      assert.equal(a.persons.atLeast, 3);
      assert.equal(a.persons.atMost, 5 + 1 + 1, 'one caller per recording, and everyone spoken of');
      assert.equal(a.categories.audio, 5);
      assert.equal(a.categories.transcripts, 2);
      assert.equal(a.categories.identifiers.personnummer, 4);
      assert.equal(a.categories.identifiers.phone, 4);
      assert.equal(a.categories.identifiers.transcript_personnummer, 2);
      assert.equal(a.categories.identifiers.transcript_phone, 2);
      assert.deepEqual(a.callTime, { first: '2026-01-10T08:00:00.000Z', last: '2026-02-15T08:00:00.000Z', withoutStart: 1 });
      assert.equal(a.exposure.level, 'depends');
      assert.match(a.exposure.statement, /depends on what was exposed/);
      assert.equal(a.exposure.recordingsReadable, 5);
      assert.equal(a.imy.filled.approximateNumberOfDataSubjects, 'between 3 and 7');
      assert.match(a.imy.filled.approximateNumberOfRecords, /^5 call recordings, 2 transcripts$/);
      assert.ok(a.imy.filled.categoriesOfPersonalData.some((c: string) => /personnummer/.test(c)));
      assert.ok(a.imy.leftForDpo.some((f: string) => /consequences/.test(f)));
      const b = byController(await operatorReport(['--controller', 'region-b']), 'region-b');
      assert.equal(b.recordings, 2);
      assert.equal(b.persons.personnummer.inMetadata, 2, 'P1 again, and P4: a person counts at each controller');
      assert.equal(b.persons.phone.inMetadata, 2);
      assertNoLeak(JSON.stringify(r), secrets(), 'the report');
    });

    test('a window compares the call time, and the import time of a call without a start', async () => {
      const jan = byController(await operatorReport(['--controller', 'region-a', '--from', '2026-01-01', '--to', '2026-02-01']), 'region-a');
      assert.equal(jan.recordings, 2, 'A1, A2');
      assert.equal(jan.persons.personnummer.inMetadata, 1, 'P1 twice');
      assert.equal(jan.persons.phone.inMetadata, 2, 'T1, T2');
      assert.equal(jan.callTime.withoutStart, 0);
      const now = Date.now();
      const recent = await operatorReport(['--controller', 'region-a', '--from', new Date(now - 3_600_000).toISOString(), '--to', new Date(now + 3_600_000).toISOString()]);
      const a5 = byController(recent, 'region-a');
      assert.equal(a5.recordings, 1, 'A5, by its import time');
      assert.deepEqual(a5.callTime, { first: null, last: null, withoutStart: 1 });
      assert.equal(a5.persons.phone.inMetadata, 1);
      const none = await operatorReport(['--controller', 'region-a', '--from', '2025-01-01', '--to', '2025-02-01']);
      assert.deepEqual(none.controllers, []);
      assert.equal(none.totals.recordings, 0);
    });

    test('by key: the recordings wrapped to it, keys exposed', async () => {
      const r = await operatorReport(['--key', keyA]);
      assert.deepEqual(
        r.controllers.map((c: any) => [c.controllerId, c.recordings, c.exposure.level]),
        [['region-a', 5, 'keys']],
      );
      assert.match(r.controllers[0].imy.filled.dataProtectedAgainstReading, /^no/);
      const feb = await operatorReport(['--key', keyA, '--from', '2026-02-01T00:00:00Z', '--to', '2026-03-01T00:00:00Z']);
      assert.equal(feb.totals.recordings, 2, 'A3, A4');
      const missing = await cli(['--data', server.dataDir, 'breach', 'report', '--json', '--key', 'no-such-key'], env());
      assert.equal(missing.code, 1);
      assert.equal(missing.json.error.code, 'CV_NOT_FOUND');
    });

    test("by blob prefix: the recording's object or its rendition's; ciphertext only", async () => {
      const row = await server.vault.recordings.get(ids.A1);
      const rendition = await server.vault.recordings.rendition(ids.A1);
      assert.ok(rendition, 'A1 has a redacted rendition');
      for (const prefix of [row!.blob_key, rendition.blob_key]) {
        const r = await operatorReport(['--blob-prefix', prefix]);
        assert.deepEqual(
          r.controllers.map((c: any) => [c.controllerId, c.recordings, c.exposure.level, c.exposure.recordingsReadable]),
          [['region-a', 1, 'ciphertext-only', 0]],
          prefix,
        );
        assert.match(r.controllers[0].imy.filled.dataProtectedAgainstReading, /^yes/);
      }
      const all = await operatorReport(['--blob-prefix', 'recordings/']);
      assert.deepEqual(
        all.controllers.map((c: any) => [c.controllerId, c.recordings]),
        [
          ['region-a', 5],
          ['region-b', 2],
        ],
      );
      // a prefix is compared byte for byte, not as a LIKE pattern
      assert.equal((await operatorReport(['--blob-prefix', 'recordings/%'])).totals.recordings, 0);
    });

    test("the privacy officer's report over HTTP covers the controllers in their reach only; others are refused and every call is audited", async () => {
      const before = (await auditEvents(server)).length;
      const all = await report({ blobPrefix: 'recordings/' });
      assert.deepEqual(
        all.controllers.map((c: any) => c.controllerId),
        ['region-a'],
      );
      const same = await operatorReport(['--controller', 'region-a']);
      const mine = await report({ controller: 'region-a' });
      const strip = (r: any) => ({ ...r, reportId: undefined, generatedAt: undefined });
      assert.deepEqual(strip(mine), strip(same), 'HTTP and the CLI answer the same');
      const foreign = await dpoA.client.post(`${API}/breach/report`, { controller: 'region-b' });
      assert.equal(foreign.status, 403);
      for (const user of [nurseA, auditor]) assert.equal((await user.client.post(`${API}/breach/report`, { controller: 'region-a' })).status, 403);
      const two = await dpoA.client.post(`${API}/breach/report`, { controller: 'region-a', key: keyA });
      assert.equal(two.status, 400);
      assert.equal(two.json.error.code, 'CV_INVALID_REQUEST');
      const entries = (await auditEvents(server)).slice(before).filter((e) => e.action === 'breach.report');
      assert.deepEqual(
        entries.map((e) => `${e.actor.type}:${e.outcome}:${e.detail.reason ?? e.detail.scope}`),
        ['user:success:blob-prefix', 'cli:success:controller', 'user:success:controller', 'user:denied:scope', 'user:denied:role', 'user:denied:role'],
      );
      const ok = entries[2];
      assert.deepEqual(ok.detail.controllers, ['region-a']);
      assert.equal(ok.detail.recordings, 5);
      assert.equal(ok.detail.personnummer, 3);
      assert.equal(ok.detail.phones, 3);
      assert.equal(ok.detail.window, 'call-time');
      assert.equal(ok.detail.reportId, mine.reportId);
    });

    test('by user: what the account was served, from its successful reading entries; erased since counts in no person', async () => {
      const from = new Date().toISOString();
      // the nurse reads A1's metadata, states a purpose and plays it, reads A3's metadata; B1 is refused
      assert.equal((await nurseA.client.get(`${API}/recordings/${ids.A1}`)).status, 200);
      assert.equal((await nurseA.client.get(`${API}/recordings/${ids.A3}`)).status, 200);
      assert.equal((await nurseA.client.get(`${API}/recordings/${ids.B1}`)).status, 404);
      const access = await nurseA.client.post(`${API}/recordings/${ids.A1}/access`, { purpose: 'patient-follow-up' });
      assert.equal(access.status, 201, access.body.toString());
      assert.equal((await nurseA.client.get(access.json.audioUrl)).status, 200);
      const r = await report({ user: nurseA.username, from });
      assert.equal(r.scope.userId, nurseA.id);
      assert.match(r.scope.window, /access time/);
      const a = byController(r, 'region-a');
      assert.equal(r.controllers.length, 1, 'B1 was refused: nothing served');
      assert.equal(a.recordings, 2);
      assert.deepEqual(a.served, { 'recording.access': 1, 'recording.play': 1, 'recording.view': 2 });
      assert.equal(a.exposure.level, 'plaintext-served');
      assert.equal(a.persons.personnummer.inMetadata, 2, 'P1 (A1), P2 (A3)');
      assert.equal(a.persons.phone.inMetadata, 1, 'T1 in both');
      assert.ok(a.accessTime.first >= from);
      // nothing in a window before the accesses
      assert.deepEqual((await report({ user: nurseA.username, to: from })).controllers, []);
      // A3 erased: still served to the account, but its identifiers are gone
      const erased = await dpoA.client.post(`${API}/subject/erase`, { personnummer: P[1], recordingIds: [ids.A3], reason: 'Art. 17-begäran, ärende DPO-2026-71' });
      assert.equal(erased.status, 200, erased.body.toString());
      const after = byController(await report({ user: nurseA.username, from }), 'region-a');
      assert.equal(after.recordings, 2);
      assert.equal(after.noLongerStored, 1);
      assert.equal(after.persons.personnummer.inMetadata, 1);
      assert.equal(byController(await operatorReport(['--controller', 'region-a']), 'region-a').recordings, 4, 'an erased recording exposes nothing');
      const entry = (await auditEvents(server)).filter((e) => e.action === 'breach.report' && e.detail.scope === 'user').at(-1);
      assert.equal(entry.detail.userId, nurseA.id);
      assert.equal(entry.detail.window, 'access-time');
      assert.equal((await dpoA.client.post(`${API}/breach/report`, { user: 'nobody-by-that-name' })).status, 404);
    });

    test('--subjects writes the persons in clear to a 0600 file, never to stdout or the log; they match the blind-index counts', async () => {
      const dir = await tempDir('out', 'breach');
      const out = join(dir, 'subjects.json');
      const r = await cli(['--data', server.dataDir, 'breach', 'report', '--json', '--key', keyA, '--subjects', out], env());
      assert.equal(r.code, 0, r.stderr);
      assertNoLeak(r.stdout + r.stderr, secrets(), 'stdout and stderr');
      assert.equal((await stat(out)).mode & 0o777, 0o600);
      const file = JSON.parse(await readFile(out, 'utf8'));
      assert.equal(file.reportId, r.json.reportId);
      const persons = file.persons as { controllerId: string; kind: string; value: string; foundIn: string[]; recordings: number }[];
      const a = byController(r.json, 'region-a');
      const count = (kind: string, where: string) => persons.filter((p) => p.kind === kind && p.foundIn.includes(where)).length;
      assert.equal(count('personnummer', 'metadata'), a.persons.personnummer.inMetadata);
      assert.equal(count('phone', 'metadata'), a.persons.phone.inMetadata);
      assert.equal(count('personnummer', 'transcript'), a.persons.personnummer.spokenInCalls);
      assert.equal(count('phone', 'transcript'), a.persons.phone.spokenInCalls);
      // A3 (P2) was erased by the test before: P1 and P3 remain, with P1 in two recordings
      const pn = persons.filter((p) => p.kind === 'personnummer' && p.foundIn.includes('metadata'));
      const expected = [normalizePersonnummer(P[0]!), normalizePersonnummer(P[2]!)];
      assert.deepEqual(pn.map((p) => p.value).sort(), expected.sort());
      assert.equal(pn.find((p) => p.value === expected[0])!.recordings, 2);
      assert.equal(r.json.subjectsFile.persons, persons.length);
      const events = await auditEvents(server);
      const entry = events.filter((e) => e.action === 'breach.report').at(-1);
      assert.equal(entry.detail.subjectsFile, true);
      assert.equal(entry.detail.subjects, persons.length);
      assertNoLeak(JSON.stringify(events), secrets(), 'the audit log');
      // a bad path fails before anything is decrypted or logged
      const size = events.length;
      const bad = await cli(['--data', server.dataDir, 'breach', 'report', '--json', '--key', keyA, '--subjects', join(dir, 'missing', 'x.json')], env());
      assert.equal(bad.code, 2);
      assert.equal((await auditEvents(server)).length, size);
    });
  });
}
