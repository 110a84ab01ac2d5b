/**
 * The OpenAPI document is the contract the web UI's client and other integrators are built on: a
 * third-party linter (Redocly's recommended rules) and validator (swagger-parser) must find
 * nothing wrong, every operation names who may call it and has a stable operationId, and the
 * handlers take their input typed from the same schemas instead of casting it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { openApiDocument } from '../../scripts/openapi.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

type Operation = { operationId?: string; security?: unknown[]; responses?: Record<string, unknown> };

function operations(doc: Record<string, unknown>): [string, Operation][] {
  const out: [string, Operation][] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const method of METHODS) if (item[method]) out.push([`${method.toUpperCase()} ${path}`, item[method]!]);
  }
  return out;
}

test('swagger-parser validates the document', async () => {
  await SwaggerParser.validate(structuredClone(await openApiDocument()) as never);
});

test("Redocly's recommended rules report no error and no warning", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cv-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(await openApiDocument()));
    // the OpenID Connect start and callback answer only with redirects (302) to the provider and
    // back: the one rule that cannot hold for them is ignored for them alone, in Redocly's own way
    const redirects = ['start', 'callback'].map((step) => `    - '#/paths/~1api~1v1~1auth~1oidc~1{provider}~1${step}/get/responses'`);
    await writeFile(join(dir, '.redocly.lint-ignore.yaml'), ['openapi.json:', '  operation-2xx-response:', ...redirects, ''].join('\n'));
    const cli = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
    const result = await promisify(execFile)(process.execPath, [cli, 'lint', file, '--extends', 'recommended', '--format', 'json'], { cwd: dir, maxBuffer: 64 << 20 }).catch(
      (err: { stdout: string }) => err,
    );
    const report = JSON.parse(result.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string; location: { pointer: string }[] }[] };
    const listed = report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`).join('\n');
    assert.equal(report.totals.errors + report.totals.warnings, 0, listed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every operation declares its security and a unique operationId', async () => {
  const ids = new Set<string>();
  for (const [name, op] of operations(await openApiDocument())) {
    assert.ok(Array.isArray(op.security), `${name} declares no security`);
    assert.ok(op.operationId, `${name} has no operationId`);
    assert.ok(!ids.has(op.operationId), `${name}: operationId ${op.operationId} is used twice`);
    ids.add(op.operationId);
  }
});

test('route handlers take typed input: no casts of req.body, req.query or req.params', async () => {
  const dir = join(ROOT, 'src/http/routes');
  const casts: string[] = [];
  for (const file of await readdir(dir)) {
    const lines = (await readFile(join(dir, file), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (/req\.(body|query|params)\s+as\b/.test(line)) casts.push(`src/http/routes/${file}:${i + 1}`);
    });
  }
  assert.deepEqual(casts, []);
});
