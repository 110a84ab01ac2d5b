/**
 * The world the subject-rights tests share, on SQLite or on a throwaway PostgreSQL database: a
 * real server over HTTPS on a data directory of its own, controllers region-a and region-b, and
 * recordings of two synthetic people uploaded by recorders as a telephony platform would:
 *
 *   S1  region-a north a1  the subject's call, with a transcript (so a redacted rendition)
 *   S2  region-a south a2  the subject's number in the metadata, no transcript
 *   S3  region-b north b1  the subject's call at another controller (outside a region-a DPO's reach)
 *   O1  region-a north a1  another person's call
 */
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { Vault } from '../../src/vault.js';
import { buildServer } from '../../src/http/server.js';
import { ensureSelfSignedCertificate, readTls } from '../../src/http/tls.js';
import { createToken } from '../../src/identities/tokens.js';
import { addController } from '../../src/tenancy/tenancy.js';
import { normalizePersonnummer, normalizePhone } from '../../src/identifiers/normalize.js';
import { PASSPHRASE, tempDir, throwawayPostgres } from '../helpers.js';
import { syntheticPersonnummer } from '../fixtures/audio.js';
import { verboseJson } from '../fixtures/transcripts.js';
import { callVariants, type SyntheticCall } from '../http/fixtures.js';
import { signedInUser, TEST_KDF, upload, type TestServer, type TestUser } from '../http/harness.js';

export type Dialect = 'sqlite' | 'postgres';

export interface World {
  server: TestServer;
  dialect: Dialect;
  /** CALLVAULT_DATABASE_URL for a CLI on the same data directory ('' on SQLite) */
  databaseUrl: string;
  call: SyntheticCall;
  /** the subject's identifiers as the tests type them, and canonical */
  personnummer: string;
  phone: string;
  canonical: { personnummer: string; phone: string };
  otherPersonnummer: string;
  ids: { S1: string; S2: string; S3: string; O1: string };
  wavs: { S1: Buffer; S2: Buffer; S3: Buffer; O1: Buffer };
  dpoA: TestUser;
  dpoB: TestUser;
  nurseA: TestUser;
  admin: TestUser;
  auditor: TestUser;
  close(): Promise<void>;
}

export async function startServer(dialect: Dialect): Promise<{ server: TestServer; databaseUrl: string }> {
  const pg = dialect === 'postgres' ? await throwawayPostgres() : undefined;
  const dataDir = await tempDir('data', `subject-${dialect}`);
  const vault = await Vault.create(dataDir, { passphrase: PASSPHRASE, controllerId: 'region-a', controllerName: 'Region A', kdf: TEST_KDF }, { databaseUrl: pg?.url });
  const tls = await readTls(await ensureSelfSignedCertificate(dataDir));
  const app = await buildServer({ vault, tls, rateLimitPerMinute: 100_000, signInPerMinute: 100_000 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const dispatcher = new Agent({ connect: { ca: tls.cert, servername: 'localhost' } });
  const server: TestServer = {
    vault,
    url: `https://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    dataDir,
    dispatcher,
    async close() {
      await app.close();
      await dispatcher.close();
      await vault.close();
      await pg?.drop();
    },
  };
  return { server, databaseUrl: pg?.url ?? '' };
}

export async function makeWorld(dialect: Dialect, seed: number): Promise<World> {
  const { server, databaseUrl } = await startServer(dialect);
  const vault = server.vault;
  await addController(vault, 'region-b', 'Region B');
  const { call, wavs } = await callVariants(seed, 4);
  const tokenA = await createToken(vault, { name: 'recorder-a', scope: 'ingest', controllerId: 'region-a', days: 1 });
  const tokenB = await createToken(vault, { name: 'recorder-b', scope: 'ingest', controllerId: 'region-b', days: 1 });
  const otherPersonnummer = syntheticPersonnummer(seed + 1000);
  const transcript = verboseJson(call).json;
  const put = async (token: string, wav: Buffer, metadata: Record<string, unknown>, withTranscript: boolean) => {
    const res = await upload(server, token, wav, metadata, withTranscript ? transcript : undefined, 'application/json');
    assert.equal(res.status, 201, JSON.stringify(res.json));
    return res.json.id as string;
  };
  const subject = { caller: call.phone, personnummer: call.personnummer, direction: 'inbound' };
  const ids = {
    S1: await put(tokenA.token, wavs[0]!, { ...subject, agent: 'a1', region: 'north', startedAt: '2026-02-01T08:00:00Z' }, true),
    S2: await put(tokenA.token, wavs[1]!, { caller: call.phone, agent: 'a2', region: 'south', startedAt: '2026-02-02T08:00:00Z' }, false),
    S3: await put(tokenB.token, wavs[2]!, { ...subject, agent: 'b1', region: 'north', startedAt: '2026-02-03T08:00:00Z' }, true),
    O1: await put(tokenA.token, wavs[3]!, { personnummer: otherPersonnummer, agent: 'a1', region: 'north', startedAt: '2026-02-04T08:00:00Z' }, false),
  };
  return {
    server,
    dialect,
    databaseUrl,
    call,
    personnummer: call.personnummer,
    phone: call.phone,
    canonical: { personnummer: normalizePersonnummer(call.personnummer), phone: normalizePhone(call.phone) },
    otherPersonnummer,
    ids,
    wavs: { S1: wavs[0]!, S2: wavs[1]!, S3: wavs[2]!, O1: wavs[3]! },
    dpoA: await signedInUser(server, { role: 'dpo', controllerId: 'region-a' }),
    dpoB: await signedInUser(server, { role: 'dpo', controllerId: 'region-b' }),
    nurseA: await signedInUser(server, { role: 'nurse', controllerId: 'region-a', agent: 'a1' }),
    admin: await signedInUser(server, { role: 'admin' }),
    auditor: await signedInUser(server, { role: 'auditor' }),
    close: () => server.close(),
  };
}

/** every audit event, parsed */
export async function auditEvents(server: TestServer): Promise<any[]> {
  const vault = server.vault;
  return (await vault.audit.entries(0, await vault.audit.size())).map((e) => JSON.parse(e.entry.toString('utf8')));
}
