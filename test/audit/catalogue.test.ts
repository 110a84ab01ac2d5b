/**
 * The audit catalogue (src/audit/catalogue.ts) is the one list of actions: docs/audit-log.md's
 * table says exactly what it says, the code appends nothing else (at compile time and at run time),
 * and every action in it is appended somewhere.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIT_CATALOGUE, catalogueProblem, isAuditAction, type ActionSpec } from '../../src/audit/catalogue.js';
import { catalogueTable, rowText, TABLE_END, TABLE_START } from '../../src/audit/catalogue-doc.js';
import { AuditLog, type AuditEvent } from '../../src/audit/audit-log.js';
import { openDatabase, type MetadataDatabase } from '../../src/db/database.js';
import { isCallvaultError, ErrorCodes } from '../../src/errors.js';
import { REPO, removeDir, tempDir } from '../helpers.js';

const ACTIONS = Object.keys(AUDIT_CATALOGUE);

/** the rows of the doc's table of actions, by action */
async function docRows(): Promise<Map<string, string>> {
  const doc = await readFile(join(REPO, 'docs', 'audit-log.md'), 'utf8');
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, 'docs/audit-log.md has the catalogue markers');
  const lines = doc
    .slice(start + TABLE_START.length, end)
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  return new Map(lines.map((l) => [/^\| `([^`]+)`/.exec(l)![1]!, l]));
}

describe('docs/audit-log.md', () => {
  test('lists every catalogued action and nothing else', async () => {
    const rows = await docRows();
    assert.deepEqual(
      [...rows.keys()].filter((a) => !isAuditAction(a)),
      [],
      'actions in the doc that the catalogue does not have',
    );
    assert.deepEqual(
      ACTIONS.filter((a) => !rows.has(a)),
      [],
      'catalogued actions the doc does not list (node dist/scripts/audit-catalogue-doc.js)',
    );
  });

  test("gives each action the catalogue's meaning, top-level fields and detail fields", async () => {
    const rows = await docRows();
    for (const [action, spec] of Object.entries(AUDIT_CATALOGUE)) {
      assert.equal(rows.get(action), rowText(action, spec as ActionSpec), `${action}: the doc differs from the catalogue (node dist/scripts/audit-catalogue-doc.js)`);
    }
    const doc = await readFile(join(REPO, 'docs', 'audit-log.md'), 'utf8');
    assert.ok(doc.includes(`${TABLE_START}\n${catalogueTable().join('\n')}\n${TABLE_END}`), 'the table is the generated one, in catalogue order');
  });
});

describe('the catalogue', () => {
  test('names are dotted, lower case, and every detail field is named once per action', () => {
    for (const [action, spec] of Object.entries(AUDIT_CATALOGUE)) {
      assert.match(action, /^[a-z-]+\.[a-z-]+$/, action);
      assert.ok((spec as ActionSpec).meaning.length > 10, `${action} says what it means`);
    }
  });

  test('keyed hashes are only the identifier hashes, which are strings and optional', () => {
    for (const [action, spec] of Object.entries(AUDIT_CATALOGUE)) {
      for (const [name, field] of Object.entries((spec as ActionSpec).detail)) {
        if (!field.hash) continue;
        assert.ok(['personnummerHash', 'phoneHash'].includes(name), `${action}.${name}`);
        assert.equal(field.type, 'string');
      }
    }
  });

  test('every catalogued action is appended somewhere in src, and src names no action outside it', async () => {
    const sources: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) await walk(path);
        else if (e.name.endsWith('.ts') && !path.endsWith(join('audit', 'catalogue.ts'))) sources.push(await readFile(path, 'utf8'));
      }
    };
    await walk(join(REPO, 'src'));
    const text = sources.join('\n');
    // `user.${path}` and `user.${name}` stand for user.disable and user.enable
    const used = (a: string) => text.includes(`'${a}'`) || ((a === 'user.disable' || a === 'user.enable') && /`user\.\$\{(path|name)\}`/.test(text));
    assert.deepEqual(
      ACTIONS.filter((a) => !used(a)),
      [],
      'catalogued actions nothing appends',
    );
    const named = [...text.matchAll(/action: '([a-z-]+\.[a-z.-]+)'/g)].map((m) => m[1]!);
    assert.deepEqual([...new Set(named.filter((a) => !isAuditAction(a)))], [], 'actions appended in src that the catalogue lacks');
  });

  test('catalogueProblem names what is wrong, and nothing for a good event', () => {
    assert.equal(catalogueProblem({ action: 'recording.play', recordingId: 'r', detail: { accessId: 'a', range: { start: 0, end: 10 } } }), undefined);
    assert.equal(catalogueProblem({ action: 'auth.signout', detail: { absent: undefined } }), undefined, 'undefined members are not written, so not checked');
    assert.match(catalogueProblem({ action: 'recording.delete' })!, /not in the catalogue/);
    assert.match(catalogueProblem({ action: 'recording.play', detail: { personnummer: '191212121212' } })!, /declares no detail field personnummer/);
    assert.match(catalogueProblem({ action: 'user.list', recordingId: 'r' })!, /does not use recordingId/);
    assert.match(catalogueProblem({ action: 'vault.restore', detail: { backupId: 'b' } })!, /needs the detail field takenAt/);
    assert.match(catalogueProblem({ action: 'recording.play', detail: { range: { start: 0, end: 1.5 } } })!, /range/);
    assert.match(catalogueProblem({ action: 'keys.read', detail: { keys: '3' } })!, /is not integer/);
    assert.match(catalogueProblem({ action: 'toString' })!, /not in the catalogue/, 'no inherited member passes for an action');
  });
});

describe('AuditLog.append against the catalogue', () => {
  let dir: string;
  let database: MetadataDatabase;
  let log: AuditLog;
  before(async () => {
    dir = await tempDir('data', 'catalogue');
    database = await openDatabase(`sqlite:${join(dir, 'callvault.db')}`);
    log = new AuditLog(database.auditStore, () => undefined);
  });
  after(async () => {
    await database.close();
    await removeDir(dir);
  });

  test('refuses an action or a field the catalogue does not declare (CV_INTERNAL), writing nothing', async () => {
    const actor = { type: 'system' as const };
    assert.equal(await log.append({ action: 'keys.read', outcome: 'success', actor, detail: { keys: 2 } }), 0);
    const bad = [
      { action: 'recording.delete', outcome: 'success', actor },
      { action: 'recording.play', outcome: 'success', actor, detail: { caller: '+46701234567' } },
      { action: 'token.list', outcome: 'success', actor, controllerId: 'region-a' },
      { action: 'vault.restore', outcome: 'success', actor, detail: { backupId: 'b' } },
    ] as unknown as AuditEvent[];
    for (const event of bad) {
      await assert.rejects(log.append(event), (err: unknown) => isCallvaultError(err) && err.code === ErrorCodes.INTERNAL, JSON.stringify(event));
    }
    assert.equal(await log.size(), 1, 'nothing of a refused event is written');
    assert.equal(log.lastAppend?.ok, true, "a refused event says nothing about the log's state");
  });
});

/**
 * Compile-time checks: each line marked @ts-expect-error must fail to compile, so a catalogue that
 * stopped checking would fail `npx tsc -p .`. Never called.
 */
export function typeChecks(log: AuditLog): void {
  const actor = { type: 'system' as const };
  void log.append({ action: 'recording.play', outcome: 'success', actor, recordingId: 'r', detail: { range: { start: 0, end: 1 } } });
  // @ts-expect-error an action not in the catalogue
  void log.append({ action: 'recording.delete', outcome: 'success', actor });
  // @ts-expect-error a detail field the action does not declare
  void log.append({ action: 'recording.play', outcome: 'success', actor, detail: { personnummer: '191212121212' } });
  // @ts-expect-error a detail field of the wrong type
  void log.append({ action: 'keys.read', outcome: 'success', actor, detail: { keys: '2' } });
  // @ts-expect-error a top-level field the action does not use
  void log.append({ action: 'user.list', outcome: 'success', actor, recordingId: 'r' });
  // @ts-expect-error a required detail field missing
  void log.append({ action: 'vault.restore', outcome: 'success', actor, detail: { backupId: 'b' } });
  // @ts-expect-error the detail of an action with required fields cannot be left out
  void log.append({ action: 'vault.restore', outcome: 'success', actor });
}
