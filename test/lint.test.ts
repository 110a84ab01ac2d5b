/**
 * The linter (biome.json at the repository root) reports nothing: no error, warning or info.
 * The formatter and the import-sorting assist are off here until the one-time format of the whole
 * tree; then `--formatter-enabled=false --assist-enabled=false` go.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './helpers.js';

it('biome ci: 0 errors, 0 warnings, 0 infos', () => {
  const biome = join(REPO, 'node_modules/@biomejs/biome/bin/biome');
  const args = ['ci', '--error-on-warnings', '--formatter-enabled=false', '--assist-enabled=false', '--colors=off', '--max-diagnostics=none'];
  const r = spawnSync(process.execPath, [biome, ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${r.stdout}${r.stderr}`;
  assert.equal(r.error, undefined, `biome did not run: ${r.error?.message}`);
  assert.equal(r.status, 0, output);
  // --error-on-warnings does not cover infos, which the habit counts too
  assert.doesNotMatch(output, /Found \d+ infos?\./, output);
});
