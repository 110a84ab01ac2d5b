/**
 * Shared by the tests: temporary directories under the suite's root (so the final plaintext scan
 * finds every data directory), a real CLI runner, and throwaway PostgreSQL databases.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO, 'bin', 'callvault.js');
export const PASSPHRASE = 'synthetic test passphrase';

export function suiteRoot(): string {
  return process.env.CALLVAULT_TEST_ROOT || join(tmpdir(), 'callvault-tests');
}

/** a fresh directory under the suite root; `kind` 'data' marks directories the final scan checks */
export async function tempDir(kind: 'data' | 'src' | 'out', label = 't'): Promise<string> {
  const parent = join(suiteRoot(), kind);
  await mkdir(parent, { recursive: true });
  return mkdtemp(join(parent, `${label}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** runs `callvault ARGS` as a user would, in its own process */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const fullEnv: NodeJS.ProcessEnv = { ...process.env, CALLVAULT_PASSPHRASE: PASSPHRASE, ...env };
  for (const [k, v] of Object.entries(fullEnv)) if (v === undefined) delete fullEnv[k];
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: fullEnv, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr, json: tryJson(stdout) };
  } catch (err: any) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, json: tryJson(err.stdout) };
  }
}

function tryJson(s: string): any {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** `callvault init` into a new data directory */
export async function initVault(extra: string[] = [], env: Record<string, string | undefined> = {}): Promise<{ dir: string; init: any }> {
  const dir = await tempDir('data', 'vault');
  const r = await cli(['--data', dir, 'init', '--json', ...extra], env);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  return { dir, init: r.json };
}

/** A throwaway PostgreSQL database on 127.0.0.1:5432, dropped by the returned function. */
export async function throwawayPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `callvault_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await c.connect();
      // pg's Pool.end() resolves once it has asked its clients to end, not once their sessions
      // have: one still closing would be terminated by the drop and raise an uncaught error in
      // the test process. So wait (briefly) until the database's sessions are gone.
      for (let i = 0; i < 50; i++) {
        const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
