/**
 * A separate process appending to the audit log of a data directory, for the concurrency test:
 * `node append-worker.js DATA WORKER COUNT`, with CALLVAULT_DATABASE_URL for PostgreSQL.
 */
import { Vault } from '../../src/vault.js';

const [dataDir, worker, count] = process.argv.slice(2);
const vault = await Vault.open(dataDir!, { databaseUrl: process.env.CALLVAULT_DATABASE_URL || undefined });
try {
  for (let i = 0; i < Number(count); i++) {
    // any catalogued action does: this one carries a name and a number
    await vault.audit.append({ action: 'audit.read', outcome: 'success', actor: { type: 'system', name: `worker-${worker}` }, detail: { what: worker!, index: i } });
  }
} finally {
  await vault.close();
}
