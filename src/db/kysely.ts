/**
 * Kysely's run-time values, for every module of callvault to import from here instead of from
 * 'kysely' (types still come from 'kysely', with `import type`).
 *
 * Kysely's ES module build is 262 files, and loading them was the largest part of a short
 * command's start-up: more than the rest of callvault that an import loads (docs/benchmarks.md,
 * `startup`). `npm run build` bundles the package into one file, dist/vendor/kysely.js
 * (scripts/bundle-kysely.ts), stamped with the version it was made from; this module loads that
 * file when it is there and of the installed version, and the package itself otherwise (after a
 * build by `tsc` alone, or an upgrade of kysely without a build). Either way it is the same code.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as K from 'kysely';

/** where `npm run build` writes the bundle, beside dist/src/ */
export const BUNDLE = new URL('../../vendor/kysely.js', import.meta.url);

/** the installed package's version, from its package.json beside its dist/ */
function installedVersion(): string | undefined {
  try {
    const entry = fileURLToPath(import.meta.resolve('kysely'));
    const manifest = entry.replace(/[/\\]dist[/\\].*$/, '/package.json');
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** the bundle when it is there and made from the installed version; its first line names that */
function bundled(): string | undefined {
  let head: string;
  try {
    const fd = openSync(fileURLToPath(BUNDLE), 'r');
    try {
      const buf = Buffer.alloc(100);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const stamp = /^\/\/ kysely (\S+)\n/.exec(head)?.[1];
  return stamp !== undefined && stamp === installedVersion() ? BUNDLE.href : undefined;
}

const kysely: typeof K = await import(bundled() ?? 'kysely');

export const Kysely = kysely.Kysely;
export type Kysely<DB> = K.Kysely<DB>;
export const Migrator = kysely.Migrator;
export type Migrator = K.Migrator;
export const PostgresAdapter = kysely.PostgresAdapter;
export type PostgresAdapter = K.PostgresAdapter;
export const PostgresDialect = kysely.PostgresDialect;
export type PostgresDialect = K.PostgresDialect;
export const SqliteDialect = kysely.SqliteDialect;
export type SqliteDialect = K.SqliteDialect;
export const sql = kysely.sql;
