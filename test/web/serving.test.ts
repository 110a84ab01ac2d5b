/**
 * `callvault serve` serves the web UI from the API's origin: index.html for the UI's page paths
 * (with the same CSP as everything else), hashed assets cached for good, and API answers never
 * cached; the typed client in web/src/shared/api/schema.d.ts matches the server's routes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Client, signedInUser, startTestServer, type TestServer } from '../http/harness.js';
import { generatedSchema, SCHEMA_FILE } from '../../scripts/openapi.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.close());

const html = { accept: 'text/html,application/xhtml+xml' };

test('page paths answer with the UI document, under the CSP', async () => {
  const client = new Client(server);
  for (const path of ['/', '/recordings', '/recordings/0f6c2f7e-5a0e-4c1e-9a55-3f0b4f0d9b11', '/audit?action=recording.play']) {
    const res = await client.request('GET', path, { headers: html });
    assert.equal(res.status, 200, path);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body.toString(), /<div id="root"><\/div>/);
    assert.match(String(res.headers['content-security-policy']), /script-src 'self'|default-src 'self'/);
    // the addresses visited (with their filters) must not stay in the browser's cache either
    assert.equal(res.headers['cache-control'], 'no-store');
  }
  const index = (await client.request('GET', '/', { headers: html })).body.toString();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
  assert.ok(script, 'index.html names its script');
  assert.doesNotMatch(index, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script: the CSP allows none');
  const asset = await client.request('GET', script);
  assert.equal(asset.status, 200);
  assert.match(String(asset.headers['content-type']), /javascript/);
  assert.match(String(asset.headers['cache-control']), /immutable/);
});

test('API paths stay JSON: unknown ones 404, answers are never cached', async () => {
  const client = new Client(server);
  const missing = await client.request('GET', '/api/v1/no-such-route', { headers: html });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'CV_NOT_FOUND');
  const unauth = await client.request('GET', '/api/v1/recordings');
  assert.equal(unauth.status, 401);
  assert.equal(unauth.headers['cache-control'], 'no-store');
  const nurse = await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' });
  const list = await nurse.client.request('GET', '/api/v1/recordings');
  assert.equal(list.status, 200);
  assert.equal(list.headers['cache-control'], 'no-store');
  // a script or image request (no text/html in Accept) for an unknown path is not given the page
  assert.equal((await client.request('GET', '/favicon.ico')).status, 404);
});

test('the web client types are generated from the current routes (npm run openapi)', async () => {
  assert.equal(await readFile(SCHEMA_FILE, 'utf8'), await generatedSchema(), 'web/src/shared/api/schema.d.ts is out of date: run npm run openapi');
});
