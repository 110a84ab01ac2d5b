/**
 * A controller's detector thresholds over HTTP (`GET|PUT /alert-settings/{controllerId}`): each
 * keeps its type through the request validator. A schema of "number or boolean" for every value
 * had the validator coerce `canarySuspend: true` to 1, which the service then refused, so the web
 * UI could not turn suspension on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLDS } from '../../src/alerts/thresholds.js';
import { signedInUser, startTestServer, type TestServer, type TestUser } from './harness.js';

const PATH = '/api/v1/alert-settings/region-a';

describe('alert thresholds over HTTP', () => {
  let server: TestServer;
  let auditor: TestUser;
  before(async () => {
    server = await startTestServer();
    auditor = await signedInUser(server, { role: 'auditor' });
  });
  after(async () => {
    await server?.close();
  });

  test('a boolean stays a boolean and a number a number, and the answer is every threshold', async () => {
    const before = await auditor.client.get(PATH);
    assert.equal(before.status, 200);
    assert.deepEqual(before.json, DEFAULT_THRESHOLDS);

    const changed = await auditor.client.request('PUT', PATH, { json: { canarySuspend: true, volumeFactor: 1 } });
    assert.equal(changed.status, 200, changed.body.toString());
    assert.deepEqual(changed.json, { ...DEFAULT_THRESHOLDS, canarySuspend: true, volumeFactor: 1 });
    assert.deepEqual((await auditor.client.get(PATH)).json, changed.json);

    const off = await auditor.client.request('PUT', PATH, { json: { canarySuspend: false } });
    assert.equal(off.json.canarySuspend, false);
  });

  test('a name that is no threshold, or a value of the wrong kind, is refused', async () => {
    const unknown = await auditor.client.request('PUT', PATH, { json: { noSuchThreshold: 3 } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.message, /noSuchThreshold/);
    const wrong = await auditor.client.request('PUT', PATH, { json: { canarySuspend: 'maybe' } });
    assert.equal(wrong.status, 400);
    assert.equal((await auditor.client.get(PATH)).json.canarySuspend, false);
  });
});
