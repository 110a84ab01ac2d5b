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
import { ICON_SVG, LOGO_SVG } from '../../src/http/brand.js';

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

test('the API documentation at /api/docs carries callvault’s name and mark, not swagger-ui’s', async () => {
  const client = new Client(server);
  const page = await client.request('GET', '/api/docs/', { headers: html });
  assert.equal(page.status, 200);
  const doc = page.body.toString();
  assert.match(doc, /<title>callvault API<\/title>/);
  assert.doesNotMatch(doc, /Swagger UI|favicon-(16|32)x\1\.png/, 'none of swagger-ui’s title and icons');
  const icon = /<link rel="icon" type="image\/svg\+xml" href="([^"]+favicon\.svg)"/.exec(doc)?.[1];
  assert.ok(icon, 'the page names callvault’s icon');
  const served = await client.request('GET', `/api/docs/${icon.replace(/^\.\//, '')}`);
  assert.equal(served.status, 200);
  assert.equal(served.body.toString(), ICON_SVG);
  const css = /href="([^"]+theme\/callvault\.css)"/.exec(doc)?.[1];
  assert.ok(css, 'the page loads callvault’s colours');
  assert.match((await client.request('GET', `/api/docs/${css.replace(/^\.\//, '')}`)).body.toString(), /#1c3d6e/);
  // the top bar's logo is replaced by the initializer script with callvault's, as a data: URL
  const init = (await client.request('GET', '/api/docs/static/swagger-initializer.js')).body.toString();
  assert.ok(init.includes(`data:image/svg+xml;base64,${Buffer.from(LOGO_SVG).toString('base64')}`), 'the initializer puts callvault’s logo in the top bar');
});

test('the web UI’s favicon is callvault’s icon', async () => {
  assert.equal(await readFile(new URL('../../../web/public/favicon.svg', import.meta.url), 'utf8'), ICON_SVG, 'web/public/favicon.svg is src/http/brand.ts’s ICON_SVG');
  const index = await readFile(new URL('../../../web/index.html', import.meta.url), 'utf8');
  assert.match(index, /<link rel="icon" href="\/favicon\.svg" type="image\/svg\+xml" \/>/);
  const client = new Client(server);
  const served = await client.request('GET', '/favicon.svg');
  assert.equal(served.status, 200);
  assert.equal(served.body.toString(), ICON_SVG);
});
