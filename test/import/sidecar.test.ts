/**
 * A recording's call time bounds how long it is kept: a recorder (an ingest token, a sidecar, a
 * CSV row) that names a time far in the future or before digital recording existed is refused,
 * with a message that names the field and not the value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOCK_SKEW_MS, parseSidecar } from '../../src/import/sidecar.js';
import { ErrorCodes, isCallvaultError } from '../../src/errors.js';

const refused = (startedAt: string, message: RegExp) =>
  assert.throws(
    () => parseSidecar({ startedAt }),
    (err: unknown) => isCallvaultError(err, ErrorCodes.INVALID_METADATA) && message.test(err.message) && !err.message.includes(startedAt),
  );

test('a call time in the future (beyond the clock skew) or before 1990 is refused', () => {
  refused('9999-12-31T00:00:00Z', /startedAt lies in the future/);
  refused(new Date(Date.now() + CLOCK_SKEW_MS + 60_000).toISOString(), /startedAt lies in the future/);
  refused('1989-12-31T23:59:59Z', /startedAt lies before 1990/);
});

test('call times from 1990 up to a clock a little ahead of ours are taken', () => {
  assert.equal(parseSidecar({ startedAt: '1990-01-01T00:00:00Z' }).startedAt, '1990-01-01T00:00:00.000Z');
  assert.equal(parseSidecar({ startedAt: '2019-02-18T09:30:00+01:00' }).startedAt, '2019-02-18T08:30:00.000Z');
  const ahead = new Date(Date.now() + CLOCK_SKEW_MS / 2).toISOString();
  assert.equal(parseSidecar({ startedAt: ahead }).startedAt, ahead);
});
