/**
 * The SIP message parser and serialiser (src/siprec/sip.ts): compact header forms, folded lines,
 * lists split outside quotes, Content-Length on a datagram and as the framing of a stream split
 * anywhere, responses that copy what RFC 3261 §8.2.6 says, and errors that never quote the message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCallvaultError } from '../../src/errors.js';
import { branchOf, header, headerParam, parseSipMessage, responseTo, SipStreamFramer, type SipRequest } from '../../src/siprec/sip.js';

const NUMBER = '+46701740611';
const invite = (body = 'v=0\r\n') =>
  Buffer.from(
    [
      'INVITE sip:srs@10.0.0.1 SIP/2.0',
      'v: SIP/2.0/TLS 10.0.0.2:5061;branch=z9hG4bKabc, SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKdef',
      `f: "Caller, ${NUMBER}" <sip:${NUMBER}@sbc.example>;tag=1`,
      't: <sip:srs@10.0.0.1>',
      'i: call-1@sbc',
      'CSeq: 7 INVITE',
      'm: <sip:src@10.0.0.2>;+sip.src',
      'Subject: a folded',
      '  header',
      'c: application/sdp',
      `l: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );

test('compact forms, folded lines and lists are read; the body is cut at its Content-Length', () => {
  const msg = parseSipMessage(Buffer.concat([invite(), Buffer.from('trailing junk')])) as SipRequest;
  assert.equal(msg.kind, 'request');
  assert.equal(msg.method, 'INVITE');
  assert.equal(msg.headers.get('via')?.length, 2, 'Via split at its comma');
  assert.equal(header(msg, 'from'), `"Caller, ${NUMBER}" <sip:${NUMBER}@sbc.example>;tag=1`, 'a quoted comma does not split');
  assert.equal(header(msg, 'subject'), 'a folded header');
  assert.equal(branchOf(msg), 'z9hG4bKabc');
  assert.equal(headerParam(header(msg, 'from'), 'tag'), '1');
  assert.equal(msg.body.toString(), 'v=0\r\n');
});

test('a response copies Via, From, To (with its tag), Call-ID and CSeq', () => {
  const req = parseSipMessage(invite()) as SipRequest;
  const res = parseSipMessage(responseTo(req, 200, 'OK', { toTag: 'srs1', body: { type: 'application/sdp', data: Buffer.from('v=0\r\n') } }));
  assert.equal(res.kind, 'response');
  assert.deepEqual(res.headers.get('via'), req.headers.get('via'));
  assert.equal(headerParam(header(res, 'to'), 'tag'), 'srs1');
  assert.equal(header(res, 'cseq'), '7 INVITE');
  assert.equal(res.body.toString(), 'v=0\r\n');
});

test('a stream is framed by Content-Length however it is split, keep-alives skipped', () => {
  const one = invite('v=0\r\no=x\r\n');
  const stream = Buffer.concat([Buffer.from('\r\n\r\n'), one, one]);
  for (const size of [1, 7, 100, stream.length]) {
    const framer = new SipStreamFramer();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) got.push(...framer.push(stream.subarray(i, i + size)));
    assert.deepEqual(
      got.map((b) => b.equals(one)),
      [true, true],
      `split every ${size} bytes`,
    );
  }
});

test('broken messages are refused with CV_SIPREC_INVALID, and the error never quotes them', () => {
  const broken = [
    invite().toString().replace('CSeq: 7 INVITE', 'CSeq: 7 BYE'),
    invite()
      .toString()
      .replace(/i: call-1@sbc\r\n/, ''),
    invite().toString().replace('l: 5', 'l: 500'),
    invite().toString().replace('INVITE sip:srs@10.0.0.1 SIP/2.0', `INVITE sip:${NUMBER}@x SIP/3.0`),
    'not a SIP message at all',
  ];
  for (const text of broken) {
    assert.throws(
      () => parseSipMessage(Buffer.from(text)),
      (err: unknown) => isCallvaultError(err) && err.code === 'CV_SIPREC_INVALID' && !err.message.includes('4670'),
    );
  }
  assert.throws(() => new SipStreamFramer().push(Buffer.from('OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n')), /Content-Length/);
});
