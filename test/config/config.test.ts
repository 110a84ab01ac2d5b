/**
 * src/config.ts: the one module that reads the environment (issue 15, item 2). Every value it
 * takes, every bad value refused with an error naming its variable and never the value, secrets
 * kept out of messages and printed configuration, and docs/configuration.md's table generated
 * from it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { inspect } from 'node:util';
import { REPO } from '../helpers.js';
import { sourceFiles } from './import-graph.js';
import { configurationTable, loadConfig, VARIABLES, withPassphrase } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';

const SECRET = 'Hemligt-9f3a'; // a value that must never show

describe('loadConfig', () => {
  it('without any variable: the defaults', () => {
    const c = loadConfig({});
    assert.equal(c.dataDir, resolve('./callvault-data'));
    assert.equal(c.logLevel, 'info');
    assert.equal(c.debug, false);
    assert.equal(c.redactionFill, 'tone');
    assert.equal(c.redactionPaddingMs, 250);
    for (const key of ['databaseUrl', 'kms', 'auditWitness', 'blobUrl', 'awsRegion', 'auditOrigin', 'passphrase', 'transcribeUrl', 'transcribeApiKey'] as const)
      assert.equal(c[key], undefined, key);
    assert.deepEqual(c.pinEnvironment, {});
    assert.ok(Object.isFrozen(c));
  });

  it('takes every variable, and an empty one as unset', () => {
    const c = loadConfig({
      CALLVAULT_DATA: '/srv/callvault',
      CALLVAULT_DATABASE_URL: `postgres://callvault:${SECRET}@db.internal/callvault`,
      CALLVAULT_KMS: `pkcs11:token=t?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:HSM_PIN`,
      HSM_PIN: SECRET,
      CALLVAULT_AUDIT_WITNESS: 'file:/mnt/worm/checkpoints,https://witness.example,syslog+tls://siem:6514',
      CALLVAULT_BLOB_URL: 's3://callvault-recordings?endpoint=https://rgw.internal&region=se-1&forcePathStyle=true',
      AWS_DEFAULT_REGION: 'eu-north-1',
      CALLVAULT_AUDIT_ORIGIN: 'region-uppsala/audit',
      CALLVAULT_PASSPHRASE: SECRET,
      CALLVAULT_LOG_LEVEL: 'warn',
      CALLVAULT_DEBUG: '1',
      CALLVAULT_REDACTION_FILL: 'silence',
      CALLVAULT_REDACTION_PADDING_MS: '0',
      CALLVAULT_TRANSCRIBE_URL: 'https://stt.internal/v1?model=whisper-large-v3',
      CALLVAULT_TRANSCRIBE_API_KEY: SECRET,
    });
    assert.equal(c.dataDir, '/srv/callvault');
    assert.match(c.databaseUrl!, /^postgres:/);
    assert.match(c.kms!, /^pkcs11:/);
    assert.deepEqual({ ...c.pinEnvironment }, { HSM_PIN: SECRET });
    assert.match(c.auditWitness!, /^file:/);
    assert.match(c.blobUrl!, /^s3:/);
    assert.equal(c.awsRegion, 'eu-north-1');
    assert.equal(c.auditOrigin, 'region-uppsala/audit');
    assert.equal(c.passphrase, SECRET);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.debug, true);
    assert.equal(c.redactionFill, 'silence');
    assert.equal(c.redactionPaddingMs, 0);
    assert.match(c.transcribeUrl!, /^https:/);
    assert.equal(c.transcribeApiKey, SECRET);
    // the secrets are there to use, but do not print
    for (const printed of [inspect(c, { depth: 5, showHidden: false }), JSON.stringify(c), String(Object.values(c))]) assert.ok(!printed.includes(SECRET), printed);

    const empty = loadConfig({ CALLVAULT_DATA: '', CALLVAULT_KMS: '', CALLVAULT_LOG_LEVEL: '', CALLVAULT_REDACTION_FILL: '', CALLVAULT_DEBUG: '', CALLVAULT_BLOB_URL: '  ' });
    assert.equal(empty.dataDir, resolve('./callvault-data'));
    assert.equal(empty.kms, undefined);
    assert.equal(empty.blobUrl, undefined);
    assert.equal(empty.logLevel, 'info');
    assert.equal(loadConfig({ AWS_REGION: 'a-1', AWS_DEFAULT_REGION: 'b-2' }).awsRegion, 'a-1');
    assert.equal(loadConfig({ CALLVAULT_KMS: 'file:/keys/keyring.json' }).kms, 'file:/keys/keyring.json');
    assert.equal(loadConfig({ CALLVAULT_DEBUG: 'off' }).debug, false);
  });

  it("keeps CALLVAULT_PASSPHRASE set but empty apart from unset (an HSM's pin-source)", () => {
    assert.equal(loadConfig({ CALLVAULT_PASSPHRASE: '' }).passphrase, '');
    assert.equal(loadConfig({}).passphrase, undefined);
  });

  it('a pin-source=env:NAME that is not set gives no PIN', () => {
    assert.deepEqual(loadConfig({ CALLVAULT_KMS: 'pkcs11:token=t?module-path=/m.so&pin-source=env:HSM_PIN' }).pinEnvironment, {});
  });

  it('withPassphrase gives the same configuration with another passphrase, still hidden', () => {
    const c = loadConfig({ CALLVAULT_PASSPHRASE: '', CALLVAULT_LOG_LEVEL: 'debug' });
    const d = withPassphrase(c, SECRET);
    assert.equal(d.passphrase, SECRET);
    assert.equal(d.logLevel, 'debug');
    assert.equal(c.passphrase, '');
    assert.ok(Object.isFrozen(d));
    assert.ok(!inspect(d).includes(SECRET) && !JSON.stringify(d).includes(SECRET));
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    ['CALLVAULT_DATABASE_URL', { CALLVAULT_DATABASE_URL: `mysql://root:${SECRET}@db/cv` }, /postgres:\/\//],
    ['CALLVAULT_DATABASE_URL', { CALLVAULT_DATABASE_URL: `/var/lib/${SECRET}.db` }, /postgres:\/\//],
    ['CALLVAULT_KMS', { CALLVAULT_KMS: `vault:${SECRET}` }, /file:PATH or pkcs11:/],
    ['CALLVAULT_KMS', { CALLVAULT_KMS: 'file:' }, /file:PATH or pkcs11:/],
    ['CALLVAULT_KMS', { CALLVAULT_KMS: 'pkcs11:token=x' }, /module-path/],
    ['CALLVAULT_KMS', { CALLVAULT_KMS: `pkcs11:token=t?module-path=/m.so&pin-value=${SECRET}&pin-source=env:X` }, /pin-source or pin-value/],
    ['CALLVAULT_AUDIT_WITNESS', { CALLVAULT_AUDIT_WITNESS: `ftp://witness.example/?token=${SECRET}` }, /a witness is one of/],
    ['CALLVAULT_BLOB_URL', { CALLVAULT_BLOB_URL: `https://bucket.example/${SECRET}` }, /only s3:\/\//],
    ['CALLVAULT_BLOB_URL', { CALLVAULT_BLOB_URL: `s3://b-${SECRET.toLowerCase()}?secret=x` }, /unknown parameter/],
    ['CALLVAULT_AUDIT_ORIGIN', { CALLVAULT_AUDIT_ORIGIN: `a ${SECRET}` }, /spaces/],
    ['CALLVAULT_AUDIT_ORIGIN', { CALLVAULT_AUDIT_ORIGIN: `a+${SECRET}` }, /"\+"/],
    ['CALLVAULT_LOG_LEVEL', { CALLVAULT_LOG_LEVEL: `loud${SECRET}` }, /one of fatal, error, warn, info, debug, trace, silent/],
    ['CALLVAULT_DEBUG', { CALLVAULT_DEBUG: SECRET }, /1 or 0/],
    ['CALLVAULT_REDACTION_FILL', { CALLVAULT_REDACTION_FILL: `beep${SECRET}` }, /tone or silence/],
    ['CALLVAULT_REDACTION_PADDING_MS', { CALLVAULT_REDACTION_PADDING_MS: '5001' }, /0 to 5000/],
    ['CALLVAULT_REDACTION_PADDING_MS', { CALLVAULT_REDACTION_PADDING_MS: '2.5' }, /whole number/],
    ['CALLVAULT_REDACTION_PADDING_MS', { CALLVAULT_REDACTION_PADDING_MS: '-1' }, /0 to 5000/],
    ['CALLVAULT_REDACTION_PADDING_MS', { CALLVAULT_REDACTION_PADDING_MS: ' ' }, /whole number/],
    ['CALLVAULT_TRANSCRIBE_URL', { CALLVAULT_TRANSCRIBE_URL: `https://user:${SECRET}@stt.internal/v1` }, /user name or password/],
    ['CALLVAULT_TRANSCRIBE_URL', { CALLVAULT_TRANSCRIBE_URL: 'http://stt.internal/v1' }, /plain http/],
    ['CALLVAULT_TRANSCRIBE_API_KEY', { CALLVAULT_TRANSCRIBE_URL: 'https://stt.internal/v1', CALLVAULT_TRANSCRIBE_API_KEY: `${SECRET}\r\nX-Injected: 1` }, /HTTP header/],
  ];
  for (const [variable, env, expected] of refused) {
    it(`refuses a bad ${variable} (${expected.source}), naming it and not the value`, () => {
      assert.throws(
        () => loadConfig({ ...env, CALLVAULT_PASSPHRASE: SECRET }),
        (err: any) => {
          assert.equal(err.code, ErrorCodes.USAGE);
          assert.ok(err.message.startsWith(variable), err.message);
          assert.match(err.message, expected);
          for (const printed of [err.message, String(err.stack), inspect(err, { depth: 5 })]) assert.ok(!printed.includes(SECRET), printed);
          return true;
        },
      );
    });
  }
});

describe('the environment is read in src/config.ts only', () => {
  it('no other module under src/ reads process.env', () => {
    const readers: string[] = [];
    for (const file of sourceFiles(join(REPO, 'src'))) {
      const path = relative(REPO, file);
      if (path === 'src/config.ts') continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/process\s*\.\s*env\b|process\s*\[\s*['"]env['"]\s*\]|from\s+['"](node:)?process['"]|require\(\s*['"](node:)?process['"]\s*\)/.test(line))
            readers.push(`${path}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(readers, [], `only src/config.ts reads the environment; take the value from the Config instead:\n${readers.join('\n')}`);
  });

  it('every CALLVAULT_* variable named in src/ is one loadConfig reads and docs/configuration.md lists', () => {
    const configText = readFileSync(join(REPO, 'src/config.ts'), 'utf8');
    const loadText = configText.slice(configText.indexOf('export function loadConfig'));
    const listed = new Set(VARIABLES.flatMap((v) => v.name.split(', ')));
    for (const name of listed) assert.ok(loadText.includes(`'${name}'`) || loadText.includes(`.${name}`), `${name} is listed but loadConfig does not read it`);
    for (const file of sourceFiles(join(REPO, 'src'))) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(/\bCALLVAULT_[A-Z0-9_]+/g)) {
        assert.ok(listed.has(name), `${relative(REPO, file)} names ${name}, which src/config.ts does not list`);
      }
    }
  });

  it('docs/configuration.md holds the table generated from src/config.ts, and every variable the docs name is in it', () => {
    const doc = readFileSync(join(REPO, 'docs/configuration.md'), 'utf8');
    const m = /<!-- generated from src\/config\.ts: begin -->\n([\s\S]*?)\n<!-- generated from src\/config\.ts: end -->/.exec(doc);
    assert.ok(m, 'the markers of the generated table');
    assert.equal(m[1], configurationTable(), `docs/configuration.md is out of date; the table should read:\n${configurationTable()}`);
    const documented = new Set([...doc.matchAll(/\bCALLVAULT_[A-Z0-9_]+/g)].map((x) => x[0]));
    const docs = [
      'README.md',
      ...readdirSync(join(REPO, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    for (const file of docs) {
      for (const [name] of readFileSync(join(REPO, file), 'utf8').matchAll(/\bCALLVAULT_[A-Z0-9_]+/g)) {
        assert.ok(documented.has(name), `${file} names ${name}, which docs/configuration.md does not`);
      }
    }
  });
});
