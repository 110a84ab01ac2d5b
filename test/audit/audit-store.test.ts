import { join } from 'node:path';
import { auditStoreContract } from './audit-store.contract.js';
import { removeDir, tempDir, throwawayPostgres } from '../helpers.js';

auditStoreContract('sqlite', async () => {
  const dir = await tempDir('data', 'audit-store');
  return { url: `sqlite:${join(dir, 'callvault.db')}`, drop: () => removeDir(dir) };
});

// PostgreSQL runs on 127.0.0.1:5432 on every machine, CI included; each run gets its own database
auditStoreContract('postgres', throwawayPostgres);
