/**
 * `callvault doctor`: checks a deployment, in the order an operator should fix things. It reads
 * file modes, first bytes and database rows; it never unlocks the keyring or decrypts anything.
 */
import { Vault } from '../vault.js';
import type { VaultEnvironment } from '../vault.js';
import { fail, type Finding } from './finding.js';
import { checkKeyring, checkPermissions, checkPlaintextAudio, checkTemporary, readDataConfig } from './files.js';
import { checkCertificate, checkEndpoints, checkPlainHttp, checkProtocols } from './http.js';
import { checkCheckpoint, checkRetention, checkWitness, unreachable } from './vault.js';

export type { Finding } from './finding.js';

export interface DoctorReport {
  ok: boolean;
  findings: Finding[];
}

export async function runDoctor(dataDir: string, env: VaultEnvironment, options: { url?: URL } = {}): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const config = await readDataConfig(dataDir);
  if (!config) {
    findings.push(fail('data-directory', `${dataDir} is not a callvault data directory`, 'run `callvault init`, or name the data directory with --data or CALLVAULT_DATA'));
  } else {
    findings.push(...(await checkKeyring(dataDir, config, env.kms)));
    findings.push(...(await checkPermissions(dataDir, config)));
    findings.push(...(await checkPlaintextAudio(dataDir)));
    findings.push(...(await checkTemporary()));
    findings.push(...checkWitness(env.witnesses));
    let vault: Vault | undefined;
    try {
      vault = await Vault.open(dataDir, env);
    } catch (err) {
      findings.push(unreachable(err));
    }
    if (vault) {
      try {
        findings.push(...(await checkCheckpoint(vault)));
        findings.push(...(await checkRetention(vault)));
      } finally {
        await vault.close();
      }
    }
  }
  if (options.url) {
    findings.push(...(await checkEndpoints(options.url)));
    findings.push(...(await checkPlainHttp(options.url)));
    findings.push(...(await checkCertificate(options.url)));
    findings.push(...(await checkProtocols(options.url)));
  }
  return { ok: findings.every((f) => f.status !== 'fail'), findings };
}
