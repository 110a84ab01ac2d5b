/**
 * Where alerts go for a SIEM (CALLVAULT_ALERT_OUTPUT): a webhook gets the alert as JSON, a syslog
 * collector an RFC 5424 message with MSGID `alert`, a file a JSON line; a bad list is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseAlertOutputs } from '../../src/alerts/outputs.js';
import type { AlertView } from '../../src/alerts/alert.js';
import { tempDir } from '../helpers.js';

const ALERT: AlertView = {
  id: '6f7c1f1e-0000-4000-8000-000000000001',
  rule: 'canary',
  severity: 'high',
  user: 'dpo1',
  userId: 'u1',
  role: 'dpo',
  createdAt: '2026-12-07T10:00:00.000Z',
  updatedAt: '2026-12-07T10:00:00.000Z',
  state: 'open',
  recordings: ['r1'],
  controllers: ['region-a'],
  evidence: 'reached a canary recording (recording.view)',
  evidenceFacts: { kind: 'canary', action: 'recording.view' },
  entries: [42],
  outcome: null,
  note: null,
  resolvedBy: null,
  resolvedByName: null,
  resolvedAt: null,
};

test('a webhook receives the alert as JSON', async () => {
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ type: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    const [out] = parseAlertOutputs(`http://127.0.0.1:${port}/hook?token=secret`);
    assert.equal(out!.description.includes('secret'), false, 'a token in the query stays out of messages');
    await out!.send(ALERT);
    assert.deepEqual(received, [{ type: 'application/json', body: ALERT }]);
  } finally {
    server.close();
  }
});

test('a webhook that refuses is an error the runner reports', async () => {
  const server = createServer((_req, res) => res.writeHead(500).end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const [out] = parseAlertOutputs(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`);
    await assert.rejects(out!.send(ALERT), /answered 500/);
  } finally {
    server.close();
  }
});

test('a syslog collector receives an RFC 5424 message with MSGID alert and the severity of a high alert', async () => {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  try {
    const [out] = parseAlertOutputs(`syslog+udp://127.0.0.1:${socket.address().port}`);
    const message = once(socket, 'message');
    await out!.send(ALERT);
    const text = ((await message)[0] as Buffer).toString('utf8');
    // facility 13 (log audit) × 8 + severity 2 (critical)
    assert.match(text, /^<106>1 2026-12-07T10:00:00.000Z \S+ callvault - alert \[callvault@32473 alertId="6f7c1f1e-0000-4000-8000-000000000001" rule="canary" severity="high"\] /);
    assert.deepEqual(JSON.parse(text.slice(text.indexOf('] ') + 2)), ALERT);
  } finally {
    socket.close();
  }
});

test('a file gets one JSON line per alert', async () => {
  const file = join(await tempDir('out', 'alerts'), 'alerts.jsonl');
  const [out] = parseAlertOutputs(`file:${file}`);
  await out!.send(ALERT);
  await out!.send({ ...ALERT, id: 'second' });
  const lines = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).id);
  assert.deepEqual(lines, [ALERT.id, 'second']);
});

test('an output that is none of the forms is refused, without repeating it', () => {
  assert.throws(
    () => parseAlertOutputs('ftp://user:pw@host/x'),
    (e: Error & { code?: string }) => e.code === 'CV_USAGE' && !e.message.includes('pw'),
  );
  assert.deepEqual(parseAlertOutputs(''), []);
});
