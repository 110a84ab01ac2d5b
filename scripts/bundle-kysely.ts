/**
 * Bundles the installed kysely's ES module build (262 files) into one, dist/vendor/kysely.js,
 * whose first line names the version it was made from. src/db/kysely.ts loads it instead of the
 * package when the versions agree: a short command then loads one file instead of 262
 * (docs/benchmarks.md, `startup`). Part of `npm run build`:
 *
 *   npx tsc -p . && node dist/scripts/bundle-kysely.js
 *
 * The bundle is kysely's own code, not changed (rolldown joins the modules, no minifying).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const OUT = fileURLToPath(new URL('../vendor/kysely.js', import.meta.url));

const entry = fileURLToPath(import.meta.resolve('kysely'));
const version = (JSON.parse(readFileSync(entry.replace(/[/\\]dist[/\\].*$/, '/package.json'), 'utf8')) as { version: string }).version;
await build({
  input: entry,
  platform: 'node',
  logLevel: 'warn',
  output: { file: OUT, format: 'esm', banner: `// kysely ${version}\n// bundled from ${entry.replace(/.*[/\\]node_modules[/\\]/, '')} by scripts/bundle-kysely.ts: do not edit` },
});
process.stdout.write(`wrote ${OUT} (kysely ${version})\n`);
