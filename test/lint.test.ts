/**
 * The linter and the formatter (biome.json at the repository root) report nothing: no error,
 * warning or info, and every file formatted (`npx biome format --write` formats). Import order is
 * not enforced (the assist is off): sorting imports would change the order modules load in.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './helpers.js';

it('biome ci: formatted, and 0 errors, 0 warnings, 0 infos', () => {
  const biome = join(REPO, 'node_modules/@biomejs/biome/bin/biome');
  const args = ['ci', '--error-on-warnings', '--assist-enabled=false', '--colors=off', '--max-diagnostics=none'];
  const r = spawnSync(process.execPath, [biome, ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${r.stdout}${r.stderr}`;
  assert.equal(r.error, undefined, `biome did not run: ${r.error?.message}`);
  assert.equal(r.status, 0, output);
  // --error-on-warnings does not cover infos, which the habit counts too
  assert.doesNotMatch(output, /Found \d+ infos?\./, output);
});
