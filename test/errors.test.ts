/** docs/errors.md lists every error code with the status and meaning src/errors.ts gives it, and nothing else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorCatalogue } from '../src/errors.js';

test('docs/errors.md matches the error catalogue', async () => {
  const doc = await readFile(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');
  const documented = [...doc.matchAll(/^\| `(CV_[A-Z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => ({ code: m[1], status: Number(m[2]), meaning: m[3]!.replace(/\\\|/g, '|') }));
  assert.deepEqual(documented, errorCatalogue());
});
