/**
 * Which controller, region and agent a SIPREC call belongs to (src/siprec/mapping.ts): the SBC
 * known by its verified certificate or its address, the agent found in the metadata, an unknown
 * SBC refused; and the direction that follows from knowing the agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSbc, mapCall, parseSiprecConfig } from '../../src/siprec/mapping.js';
import { parseSiprecBody } from '../../src/siprec/multipart.js';
import { callFacts } from '../../src/siprec/facts.js';
import { isCallvaultError } from '../../src/errors.js';
import type { SbcIdentity } from '../../src/siprec/types.js';
import { readSipFixture } from './fixtures.js';

function offer(path: string) {
  const f = readSipFixture(path);
  return parseSiprecBody(f.contentType, f.body);
}

// as an operator writes it in DATA/config.json, read back from JSON
const CONFIG = JSON.parse(
  JSON.stringify({
    sbcs: [
      {
        name: 'oracle-sthlm',
        match: { cn: 'sbc1.region.example' },
        controller: 'region-stockholm',
        region: 'stockholm',
        timeZone: 'Europe/Stockholm',
        agentFrom: 'participant-aor',
        agentPattern: '^sips?:(\\d{4})@cc\\.region\\.example$',
      },
      {
        name: 'avaya-gbg',
        match: { san: 'sbce.region.example', address: '192.0.2.64/28' },
        controller: 'region-vg',
        agentFrom: 'extension:avaya:agent-id',
        agentPattern: '^agent-(\\d+)$',
      },
      { name: 'cube-lab', match: { address: '192.0.2.20' }, controller: 'region-stockholm', agentFrom: 'participant-aor', agentPattern: '^sip:(\\d{4})@192\\.0\\.2\\.20$' },
      { name: 'opensips-v6', match: { address: '2001:db8:5::/48' }, controller: 'region-skane' },
    ],
  }),
);

const tls = (cn: string | undefined, address: string, sans: string[] = []): SbcIdentity => ({ transport: 'tls', address, certificateSans: sans, ...(cn && { certificateCn: cn }) });

test('an SBC is known by its certificate CN over mutual TLS, never over UDP or TCP', () => {
  const mapping = parseSiprecConfig(CONFIG);
  assert.equal(findSbc(mapping, tls('SBC1.region.example', '198.51.100.7')).name, 'oracle-sthlm');
  for (const transport of ['udp', 'tcp'] as const) {
    assert.throws(
      () => findSbc(mapping, { transport, address: '198.51.100.7', certificateCn: 'sbc1.region.example' }),
      (err: unknown) => isCallvaultError(err, 'CV_FORBIDDEN'),
    );
  }
});

test('by a subjectAltName and an address block together, by an address alone (IPv4, IPv4-mapped, IPv6 block)', () => {
  const mapping = parseSiprecConfig(CONFIG);
  assert.equal(findSbc(mapping, tls('other', '192.0.2.70', ['sbce.region.example'])).name, 'avaya-gbg');
  // the right certificate from outside the block is not enough
  assert.throws(
    () => findSbc(mapping, tls('other', '192.0.2.99', ['sbce.region.example'])),
    (err: unknown) => isCallvaultError(err, 'CV_FORBIDDEN'),
  );
  assert.equal(findSbc(mapping, { transport: 'tcp', address: '192.0.2.20' }).name, 'cube-lab');
  assert.equal(findSbc(mapping, { transport: 'udp', address: '::ffff:192.0.2.20' }).name, 'cube-lab');
  assert.equal(findSbc(mapping, { transport: 'udp', address: '2001:db8:5:1::10' }).name, 'opensips-v6');
  assert.throws(
    () => findSbc(mapping, { transport: 'udp', address: '192.0.2.21' }),
    (err: unknown) => isCallvaultError(err, 'CV_FORBIDDEN'),
  );
});

test('no siprec section: every SBC is refused', () => {
  assert.throws(
    () => findSbc(parseSiprecConfig(undefined), { transport: 'udp', address: '192.0.2.20' }),
    (err: unknown) => isCallvaultError(err, 'CV_FORBIDDEN'),
  );
});

test('the agent from a participant’s AOR gives the call’s direction: called (inbound) or calling (outbound)', () => {
  const mapping = parseSiprecConfig(CONFIG);
  const oracle = offer('vendors/oracle-acme.sip');
  const call = mapCall(mapping, tls('sbc1.region.example', '198.51.100.7'), oracle.metadata);
  assert.deepEqual(call, {
    sbc: 'oracle-sthlm',
    controller: 'region-stockholm',
    region: 'stockholm',
    timeZone: 'Europe/Stockholm',
    agent: '4201',
    agentParticipantId: 'EbccNyypRlFYXTm4iw8hxw==',
  });
  const facts = callFacts(oracle.metadata, oracle.sdp, call);
  assert.equal(facts.agent, '4201');
  assert.equal(facts.direction, 'inbound');
  // the SBC writes local time without a zone
  assert.equal(facts.startedAt, '2026-12-07T08:15:20.000Z');

  const cisco = offer('vendors/cisco-cube.sip');
  const out = mapCall(mapping, { transport: 'tcp', address: '192.0.2.20' }, cisco.metadata);
  assert.equal(out.agent, '4202');
  assert.equal(callFacts(cisco.metadata, cisco.sdp, out).direction, 'outbound');
});

test('the agent from an extension value, through the pattern’s group', () => {
  const mapping = parseSiprecConfig(CONFIG);
  const avaya = offer('vendors/avaya-sbce.sip');
  const call = mapCall(mapping, tls(undefined, '192.0.2.70', ['sbce.region.example']), avaya.metadata);
  assert.deepEqual(call, { sbc: 'avaya-gbg', controller: 'region-vg', agent: '5521' });
});

test('no agent when the metadata holds none the rule finds, or the rule names no source', () => {
  const mapping = parseSiprecConfig(CONFIG);
  // Ribbon's participants are numbers, not agents at cc.region.example
  const ribbon = offer('vendors/ribbon-sonus.sip');
  assert.deepEqual(mapCall(mapping, tls('sbc1.region.example', '198.51.100.7'), ribbon.metadata), {
    sbc: 'oracle-sthlm',
    controller: 'region-stockholm',
    region: 'stockholm',
    timeZone: 'Europe/Stockholm',
  });
  assert.deepEqual(mapCall(mapping, { transport: 'udp', address: '2001:db8:5::1' }, offer('vendors/opensips.sip').metadata), { sbc: 'opensips-v6', controller: 'region-skane' });
  assert.deepEqual(mapCall(mapping, { transport: 'tcp', address: '192.0.2.20' }, undefined), { sbc: 'cube-lab', controller: 'region-stockholm' });
});

test('a bad siprec section is a CV_USAGE error naming the setting', () => {
  const cases: [unknown, RegExp][] = [
    [{}, /^config\.json siprec\.sbcs is a list/],
    [{ sbcs: [{ match: { address: '192.0.2.1' }, controller: 'a' }] }, /sbcs\[0\]\.name/],
    [{ sbcs: [{ name: 'x', match: {}, controller: 'a' }] }, /sbcs\[0\]\.match names/],
    [{ sbcs: [{ name: 'x', match: { ip: '192.0.2.1' }, controller: 'a' }] }, /sbcs\[0\]\.match\.ip is not a setting/],
    [{ sbcs: [{ name: 'x', match: { address: '192.0.2.1/33' }, controller: 'a' }] }, /sbcs\[0\]\.match\.address/],
    [{ sbcs: [{ name: 'x', match: { address: 'sbc.example' }, controller: 'a' }] }, /sbcs\[0\]\.match\.address/],
    [{ sbcs: [{ name: 'x', match: { cn: 'c' }, controller: 'Region Stockholm' }] }, /sbcs\[0\]\.controller/],
    [{ sbcs: [{ name: 'x', match: { cn: 'c' }, controller: 'a', agentFrom: 'header:X-Agent' }] }, /sbcs\[0\]\.agentFrom/],
    [{ sbcs: [{ name: 'x', match: { cn: 'c' }, controller: 'a', agentFrom: 'participant-aor' }] }, /sbcs\[0\]\.agentPattern is needed/],
    [{ sbcs: [{ name: 'x', match: { cn: 'c' }, controller: 'a', agentFrom: 'participant-aor', agentPattern: '(' }] }, /sbcs\[0\]\.agentPattern is not a valid/],
    [{ sbcs: [{ name: 'x', match: { cn: 'c' }, controller: 'a', timeZone: 'Mars/Olympus' }] }, /sbcs\[0\]\.timeZone/],
    [
      {
        sbcs: [
          { name: 'x', match: { cn: 'c' }, controller: 'a' },
          { name: 'x', match: { cn: 'd' }, controller: 'a' },
        ],
      },
      /sbcs\[1\]\.name names another/,
    ],
  ];
  assert.throws(
    () => parseSiprecConfig({ sbcs: [{ name: 'x', match: { cn: 'c' } }] }, '--sbcs file'),
    (err: unknown) => isCallvaultError(err, 'CV_USAGE') && (err as Error).message === '--sbcs file.sbcs[0].controller is a controller id',
  );
  for (const [raw, message] of cases) {
    assert.throws(
      () => parseSiprecConfig(raw),
      (err: unknown) => isCallvaultError(err, 'CV_USAGE') && message.test((err as Error).message),
      String(message),
    );
  }
});
