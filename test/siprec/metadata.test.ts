/**
 * SIPREC bodies of six SBC vendors (testdata/siprec/vendors, written to their published formats)
 * read into the RFC 7865 model, their m-lines mapped to participants, and their callers found;
 * partial updates merged; bad bodies refused with CV_SIPREC_INVALID and no identifier in the message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMultipartBody, parseSiprecBody } from '../../src/siprec/multipart.js';
import { mergeMetadata, parseMetadata, MAX_METADATA_BYTES } from '../../src/siprec/metadata.js';
import { callFacts, metadataTime, sdpLabels } from '../../src/siprec/facts.js';
import { isCallvaultError } from '../../src/errors.js';
import type { RecordingSessionMetadata } from '../../src/siprec/types.js';
import { fixtureNames, readSipFixture } from './fixtures.js';

function offer(path: string) {
  const f = readSipFixture(path);
  return parseSiprecBody(f.contentType, f.body);
}

/** label → the AORs of the participants who send it */
function senders(facts: ReturnType<typeof callFacts>): Record<string, string[]> {
  return Object.fromEntries([...facts.sendersByLabel].map(([label, ps]) => [label, ps.map((p) => p.nameIds[0]?.aor ?? '')]));
}

interface Expected {
  participants: number;
  labels: Record<string, string[]>;
  caller?: string;
  callee?: string;
  direction?: 'inbound' | 'outbound';
  startedAt: string;
  extensions?: Record<string, string>;
}

const VENDORS: Record<string, Expected> = {
  // Oracle/Acme Packet: draft namespace and ids, <send> inside the participant, numeric labels, apkt: extension data marking the caller
  'oracle-acme.sip': {
    participants: 2,
    labels: { '16777227': ['sip:+46701740611@carrier.example'], '16777228': ['sip:4201@cc.region.example'] },
    caller: '+46701740611',
    direction: 'inbound',
    startedAt: '2026-12-07T09:15:20.000Z',
    extensions: {
      'apkt:ucid': '00FA080019001038F725B3;encoding=hex',
      'participant[fSD3PFErSjNTHLDiXCELjw==]/apkt:callingParty': 'true',
      'participant[fSD3PFErSjNTHLDiXCELjw==]/apkt:header[P-Asserted-Identity].value': '<sip:+46701740611@carrier.example>, <tel:+46701740611>',
    },
  },
  // Oracle's early-draft form: <dataMode>, <aor> and <name> directly in the participant, zone-less times
  'oracle-early-draft.sip': {
    participants: 2,
    labels: { '1': ['sip:+46701740617@carrier.example'], '2': ['sip:service@192.0.2.13'] },
    caller: '+46701740617',
    direction: 'inbound',
    startedAt: '2026-12-07T17:03:57.000Z',
  },
  // Cisco CUBE: elements interleaved, participantstreamassoc, a third body part (application/gtd), the agent calling out
  'cisco-cube.sip': {
    participants: 2,
    labels: { '1': ['sip:4202@192.0.2.20'], '2': ['sip:0701740612@192.0.2.21'] },
    callee: '+46701740612',
    direction: 'outbound',
    startedAt: '2026-12-07T10:02:11.040Z',
  },
  // Ribbon/Sonus: prefixed namespace (tns:), call data with the From and To headers, AORs without a scheme, no closing delimiter
  'ribbon-sonus.sip': {
    participants: 2,
    labels: { '1': ['46846500401@192.0.2.40'], '2': ['0701740613@192.0.2.41'] },
    caller: '+46846500401',
    callee: '+46701740613',
    startedAt: '2026-12-07T08:30:05.000Z',
    extensions: { 'callData.gcid': '241205267', 'callData.callid': '2da553f7-a48b-1235-d6a2-5254003a4988' },
  },
  // AudioCodes: application/rs-metadata (no +xml), ac: elements with an undeclared prefix, numeric ids
  'audiocodes.sip': {
    participants: 2,
    labels: { '1': ['sip:0846500402@192.0.2.60;user=phone'], '2': ['sip:agent.2203@cc.region.example'] },
    caller: '+46846500402',
    direction: 'inbound',
    startedAt: '2026-12-07T11:47:57.000Z',
    extensions: { 'ac:AvayaUCID': 'FA080019001038F725B3', 'ac:GenesysUUID': '4BOKLLA3VH66JF112M1CC9VHKS14F0KP' },
  },
  // Avaya SBCE: string labels, SRTP, a tel: AOR, a zoned start time, UCID and agent in extension data
  'avaya-sbce.sip': {
    participants: 2,
    labels: { caller: ['tel:+46701740614'], callee: ['sip:5521@cm.region.example'] },
    caller: '+46701740614',
    direction: 'inbound',
    startedAt: '2026-12-07T12:56:05.000Z',
    extensions: { 'avaya:ucid': '00FA0800190A2B5C3D4E5F;encoding=hex', 'avaya:agent-id': 'agent-5521' },
  },
  // OpenSIPS siprec module: label 0, no start-time (the earliest association), +0100 offsets, a custom group extension
  'opensips.sip': {
    participants: 2,
    labels: { '0': ['sip:+46701740615@carrier.example'], '1': ['sip:+46846500403@clinic.region.example'] },
    caller: '+46701740615',
    callee: '+46846500403',
    startedAt: '2026-12-07T13:20:00.000Z',
    extensions: { 'ext:queue': 'triage' },
  },
  // RFC 7866: one mixed stream that both participants send, the metadata part before the SDP
  'rfc7866-mixed.sip': {
    participants: 2,
    labels: { mix: ['sip:+46701740616@carrier.example', 'sip:nurse-3301@cc.region.example'] },
    caller: '+46701740616',
    direction: 'inbound',
    startedAt: '2026-12-07T15:01:02.000Z',
  },
};

test('every vendor fixture is listed here, and each of the six vendors sends two or more streams', () => {
  assert.deepEqual(fixtureNames('vendors'), Object.keys(VENDORS).sort());
  for (const name of ['oracle-acme.sip', 'cisco-cube.sip', 'ribbon-sonus.sip', 'audiocodes.sip', 'avaya-sbce.sip', 'opensips.sip']) {
    const o = offer(`vendors/${name}`);
    assert.ok(sdpLabels(o.sdp).length >= 2, name);
    assert.ok(o.metadata!.streams.length >= 2, name);
  }
});

for (const [name, expected] of Object.entries(VENDORS)) {
  test(`${name}: participants, label mapping, caller and callee in E.164, direction and start`, () => {
    const o = offer(`vendors/${name}`);
    const metadata = o.metadata!;
    assert.equal(metadata.dataMode, 'complete');
    assert.equal(metadata.participants.length, expected.participants);
    const facts = callFacts(metadata, o.sdp);
    assert.deepEqual(senders(facts), expected.labels);
    // a label several participants send is a mixed stream: no single participant for it
    for (const [label, aors] of Object.entries(expected.labels)) assert.equal(facts.participantsByLabel.has(label), aors.length === 1);
    assert.equal(facts.caller, expected.caller);
    assert.equal(facts.callee, expected.callee);
    assert.equal(facts.direction, expected.direction);
    assert.equal(facts.startedAt, expected.startedAt);
    assert.equal(facts.endedAt, undefined);
    for (const [key, value] of Object.entries(expected.extensions ?? {})) assert.equal(metadata.extensions[key], value, key);
  });
}

test('Cisco: the session names its Call-ID, and each participant receives the other one’s stream', () => {
  const m = offer('vendors/cisco-cube.sip').metadata!;
  assert.deepEqual(m.sessions[0]!.sipSessionIds, ['e9fffff2020a598b86962867715db0cf;remote=cd0f7093d62c5f0697098fd69a4aa57b']);
  const [agent, patient] = m.participants;
  assert.deepEqual(agent!.sends, patient!.receives);
  assert.deepEqual(agent!.receives, patient!.sends);
  assert.equal(m.associations.length, 2);
});

test('Ribbon: the caller comes from the From header in the call data, not from the order of the participants', () => {
  const m = offer('vendors/ribbon-sonus.sip').metadata!;
  // the participant listed first is the one called
  assert.equal(m.participants[0]!.nameIds[0]!.aor, '0701740613@192.0.2.41');
  assert.equal(m.sessions[0]!.groupId, m.groups[0]!.id);
  assert.equal(m.extensions['callData.fromhdr'], '"Mottagning" <sip:46846500401@192.0.2.40>;tag=SerryvK5ej0jc');
});

test('the same body with CRLF or LF line ends, and with its parts in either order, reads alike', () => {
  const f = readSipFixture('vendors/oracle-acme.sip');
  const lf = parseSiprecBody(f.contentType, f.body);
  const crlf = parseSiprecBody(f.contentType, f.body.replace(/\r?\n/g, '\r\n'));
  assert.deepEqual(crlf.metadata, lf.metadata);
  assert.deepEqual(sdpLabels(crlf.sdp), sdpLabels(lf.sdp));
  const swapped = buildMultipartBody([
    { type: 'application/rs-metadata+xml', disposition: 'recording-session', body: metadataXml('vendors/oracle-acme.sip') },
    { type: 'application/sdp', body: lf.sdp },
  ]);
  assert.deepEqual(parseSiprecBody(swapped.contentType, Buffer.from(swapped.body)).metadata, lf.metadata);
  // a part that holds the default boundary gets another one
  const clash = buildMultipartBody([{ type: 'application/sdp', body: `${lf.sdp}--callvault-siprec-boundary\r\n` }]);
  assert.equal(clash.contentType, 'multipart/mixed;boundary=callvault-siprec-boundary-1');
});

function metadataXml(path: string): string {
  const f = readSipFixture(path);
  const start = f.body.indexOf('<?xml');
  return f.body.slice(start, f.body.indexOf('</recording>', start) + '</recording>'.length);
}

test('parts without headers are told apart by their content; SDP alone is an offer without metadata', () => {
  const sdp = offer('vendors/cisco-cube.sip').sdp;
  const xml = metadataXml('vendors/cisco-cube.sip');
  const body = `--x\r\n\r\n${sdp}\r\n--x\r\n${xml}\r\n--x--\r\n`;
  const o = parseSiprecBody('multipart/mixed; boundary="x"', body);
  assert.equal(o.metadata!.participants.length, 2);
  assert.deepEqual(sdpLabels(o.sdp), ['1', '2']);
  const alone = parseSiprecBody('application/sdp', sdp);
  assert.equal(alone.metadata, undefined);
  assert.equal(alone.sdp, sdp);
  // without metadata every labelled m-line is known, with no participant
  assert.deepEqual(senders(callFacts(undefined, sdp)), { '1': [], '2': [] });
});

test('a partial update adds a participant and its stream; the rest stays as it was', () => {
  const initial = offer('vendors/oracle-acme.sip');
  const update = offer('partial/oracle-add-participant.sip');
  assert.equal(update.metadata!.dataMode, 'partial');
  const merged = mergeMetadata(initial.metadata, update.metadata!);
  assert.equal(merged.dataMode, 'complete');
  assert.equal(merged.participants.length, 3);
  const facts = callFacts(merged, update.sdp);
  assert.deepEqual(senders(facts), {
    '16777227': ['sip:+46701740611@carrier.example'],
    '16777228': ['sip:4201@cc.region.example'],
    '16777229': ['sip:4301@cc.region.example'],
  });
  assert.equal(facts.caller, '+46701740611');
  assert.equal(facts.startedAt, '2026-12-07T09:15:20.000Z');
  assert.equal(merged.extensions['apkt:ucid'], '00FA080019001038F725B3;encoding=hex');
  // the update's own SDP with the old metadata: its third label is known to no stream yet
  assert.deepEqual(callFacts(initial.metadata, update.sdp).sendersByLabel.get('16777229'), []);
});

test('a partial update changes a participant’s number (caller-ID update), then ends the session', () => {
  let metadata: RecordingSessionMetadata | undefined = offer('vendors/cisco-cube.sip').metadata;
  const callerId = offer('partial/cisco-callerid-update.sip');
  metadata = mergeMetadata(metadata, callerId.metadata!);
  let facts = callFacts(metadata, callerId.sdp);
  assert.equal(facts.callee, '+46701740618');
  // the streams stay with the participant whose name changed
  assert.deepEqual(senders(facts)['2'], ['sip:+46701740618@192.0.2.21']);
  const bye = offer('partial/cisco-disconnect.sip');
  metadata = mergeMetadata(metadata, bye.metadata!);
  facts = callFacts(metadata, bye.sdp);
  assert.equal(facts.startedAt, '2026-12-07T10:02:11.040Z');
  assert.equal(facts.endedAt, '2026-12-07T10:09:45.512Z');
  assert.ok(metadata.associations.every((a) => a.associateTime && a.disassociateTime));
  assert.deepEqual(metadata.sessions[0]!.sipSessionIds, ['e9fffff2020a598b86962867715db0cf;remote=cd0f7093d62c5f0697098fd69a4aa57b']);
});

test('the draft form: recv inside the participant, extension data at the top naming its parent', () => {
  const m = parseMetadata(`<?xml version="1.0"?>
<recording xmlns="urn:ietf:params:xml:ns:recording">
  <session id="s"><start-time>2026-12-07T10:00:00Z</start-time></session>
  <participant id="a" session="s"><nameID aor="sip:+46701740620@x.example"/><send>ta</send><recv>tb</recv></participant>
  <participant id="b" session="s"><nameID aor="sip:4501@cc.example"/><send>tb</send><recv>ta</recv></participant>
  <stream id="ta" session="s"><label>10</label></stream>
  <stream id="tb" session="s"><label>11</label></stream>
  <extensiondata parent="b" xmlns:apkt="http://acmepacket.com/siprec/extensiondata"><apkt:callingParty>true</apkt:callingParty></extensiondata>
  <extensiondata parent="s" xmlns:apkt="http://acmepacket.com/siprec/extensiondata"><apkt:ucid>C0934BE72BF711D6800285D16359919A</apkt:ucid></extensiondata>
</recording>`);
  assert.deepEqual(
    m.participants.map((p) => [p.id, p.sends, p.receives]),
    [
      ['a', ['ta'], ['tb']],
      ['b', ['tb'], ['ta']],
    ],
  );
  assert.deepEqual(m.extensions, { 'participant[b]/apkt:callingParty': 'true', 'apkt:ucid': 'C0934BE72BF711D6800285D16359919A' });
  // the participant the extension marks is the caller, though listed second
  const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=label:10\r\nm=audio 4002 RTP/AVP 0\r\na=label:11\r\n';
  const facts = callFacts(m, sdp);
  assert.equal(facts.callee, '+46701740620');
  assert.equal(facts.caller, undefined);
  assert.equal(facts.direction, 'outbound');
});

test('a complete update replaces what came before', () => {
  const first = offer('vendors/oracle-acme.sip').metadata!;
  const second = offer('vendors/cisco-cube.sip').metadata!;
  assert.deepEqual(mergeMetadata(first, second), second);
});

const INVALID: Record<string, RegExp> = {
  'entity-bomb.sip': /document type or entities/,
  'label-without-mline.sip': /label no m-line/,
  'missing-boundary.sip': /no boundary/,
  'truncated-xml.sip': /not well-formed XML/,
  'wrong-namespace.sip': /namespace/,
};

test('every invalid fixture is listed here', () => {
  assert.deepEqual(fixtureNames('invalid'), Object.keys(INVALID).sort());
});

for (const [name, message] of Object.entries(INVALID)) {
  test(`${name} is refused with CV_SIPREC_INVALID, and the message quotes nothing of the body`, () => {
    const f = readSipFixture(`invalid/${name}`);
    assert.ok(f.body.includes('46701740619'));
    assert.throws(
      () => {
        const o = parseSiprecBody(f.contentType, f.body);
        callFacts(o.metadata, o.sdp);
      },
      (err: unknown) => {
        assert.ok(isCallvaultError(err, 'CV_SIPREC_INVALID'), String(err));
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /4670|\d{7,}|recording xmlns|sip:/);
        return true;
      },
    );
  });
}

test('an entity bomb is refused before any expansion, and metadata above the size limit unread', () => {
  const body = readSipFixture('invalid/entity-bomb.sip').body;
  const bomb = body.slice(body.indexOf('<?xml'), body.lastIndexOf('</recording>') + '</recording>'.length);
  assert.throws(
    () => parseMetadata(bomb),
    (err: unknown) => isCallvaultError(err, 'CV_SIPREC_INVALID') && /document type/.test((err as Error).message),
  );
  const big = metadataXml('vendors/cisco-cube.sip').replace('</recording>', `<!--${'x'.repeat(MAX_METADATA_BYTES)}--></recording>`);
  assert.throws(
    () => parseMetadata(big),
    (err: unknown) => isCallvaultError(err, 'CV_SIPREC_INVALID') && /larger than/.test((err as Error).message),
  );
});

test('other malformed bodies: no SDP part, two SDP parts, a stream without a label, SDP without media, an unknown type', () => {
  const sdp = offer('vendors/cisco-cube.sip').sdp;
  const xml = metadataXml('vendors/cisco-cube.sip');
  const cases: [string, string, RegExp][] = [
    ['multipart/mixed;boundary=b', `--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n${xml}\r\n--b--\r\n`, /no application\/sdp part/],
    [
      'multipart/mixed;boundary=b',
      `--b\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b--\r\n`,
      /more than one application\/sdp/,
    ],
    [
      'multipart/mixed;boundary=b',
      `--b\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n${xml.replace('<label>1</label>', '')}\r\n--b--\r\n`,
      /stream has no label/,
    ],
    ['application/sdp', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n', /no m= line/],
    ['text/plain', 'sip:+46701740611@carrier.example', /text\/plain/],
    ['multipart/mixed;boundary=b', 'no delimiter here at all: +46701740611', /no part delimited/],
  ];
  for (const [type, body, message] of cases) {
    assert.throws(
      () => parseSiprecBody(type, body),
      (err: unknown) => isCallvaultError(err, 'CV_SIPREC_INVALID') && message.test((err as Error).message) && !(err as Error).message.includes('4670'),
      String(message),
    );
  }
});

test('metadata times: with a zone, with an offset written without a colon, and without a zone (read as UTC)', () => {
  assert.equal(metadataTime('2026-12-07T14:20:00+0100'), '2026-12-07T13:20:00.000Z');
  assert.equal(metadataTime('2026-12-07T14:20:00+01:00'), '2026-12-07T13:20:00.000Z');
  assert.equal(metadataTime('2026-12-07T14:20:00'), '2026-12-07T14:20:00.000Z');
  assert.equal(metadataTime('2026-12-07T14:20:00.250Z'), '2026-12-07T14:20:00.250Z');
  assert.equal(metadataTime('yesterday'), undefined);
  // a zone-less time in the SBC's zone: winter (+01:00) and summer (+02:00) in Stockholm; a zoned time ignores it
  assert.equal(metadataTime('2026-12-07T09:15:20', 'Europe/Stockholm'), '2026-12-07T08:15:20.000Z');
  assert.equal(metadataTime('2026-07-01T09:15:20', 'Europe/Stockholm'), '2026-07-01T07:15:20.000Z');
  assert.equal(metadataTime('2026-12-07T09:15:20Z', 'Europe/Stockholm'), '2026-12-07T09:15:20.000Z');
});

test('the start of an Oracle call in its SBC’s zone, when the rule names one', () => {
  const o = offer('vendors/oracle-acme.sip');
  assert.equal(callFacts(o.metadata, o.sdp, { controller: 'region-stockholm', timeZone: 'Europe/Stockholm' }).startedAt, '2026-12-07T08:15:20.000Z');
});

test('two m-lines with one label are refused', () => {
  const sdp = offer('vendors/cisco-cube.sip').sdp.replace('a=label:2', 'a=label:1');
  assert.throws(
    () => callFacts(undefined, sdp),
    (err: unknown) => isCallvaultError(err, 'CV_SIPREC_INVALID'),
  );
});

test('a vendor body cut anywhere is read whole or refused with CV_SIPREC_INVALID, never another error', () => {
  let refused = 0;
  for (const name of Object.keys(VENDORS)) {
    const f = readSipFixture(`vendors/${name}`);
    for (let end = 0; end < f.body.length; end += 5) {
      try {
        const o = parseSiprecBody(f.contentType, f.body.slice(0, end));
        callFacts(o.metadata, o.sdp);
      } catch (err) {
        assert.ok(isCallvaultError(err, 'CV_SIPREC_INVALID'), `${name} cut at ${end}: ${String(err)}`);
        assert.doesNotMatch((err as Error).message, /4670|\d{7,}/);
        refused++;
      }
    }
  }
  assert.ok(refused > 0);
});
