import type { Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { auditVerifierKey } from '../../services/audit-reading.js';
import { Vault } from '../../vault.js';
import { createUser } from '../../identities/users.js';
import { weakness } from '../../identities/passwords.js';
import { ensureSelfSignedCertificate } from '../../http/tls.js';
import { dataDir, environment, passphrase, print, type GlobalOptions } from '../io.js';

export interface InitOptions extends GlobalOptions {
  controller: string;
  controllerName?: string;
}

export async function initDataDir(opts: InitOptions) {
  // with an HSM the secret is the token's user PIN, set when the token was initialised; a URL
  // with a pin-source needs none here
  const hsm = opts.config.kms?.startsWith('pkcs11:');
  const secret = hsm
    ? (opts.config.passphrase ?? (/[?&;]pin-(source|value)=/.test(opts.config.kms!) ? '' : await passphrase(opts.config, 'Token PIN: ')))
    : await passphrase(opts.config, 'New passphrase for the key custodian:', {
        confirm: true,
        // the same strength check as users' passwords: the passphrase opens every recording
        check: (value) => weakness(value, [opts.controller, opts.controllerName ?? ''], 'passphrase'),
      });
  const dir = dataDir(opts);
  const vault = await Vault.create(dir, { passphrase: secret, controllerId: opts.controller, controllerName: opts.controllerName ?? opts.controller }, environment(opts.config));
  try {
    const key = await vault.keys.activeKey(opts.controller);
    const admin = await createUser(vault, { username: 'admin', role: 'admin' });
    await ensureSelfSignedCertificate(dir);
    const auditKey = await auditVerifierKey(vault);
    return { vault, result: { dataDir: dir, controller: { id: opts.controller, keyId: key.keyId }, auditKey, admin } };
  } catch (err) {
    await vault.close();
    throw err;
  }
}

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('init')
    .description('create a data directory: configuration, database, controller key pair and the first admin user')
    .option('--controller <id>', 'id of the first controller (the region that owns the recordings)', 'region')
    .option('--controller-name <name>', 'display name of the first controller')
    .action(async (cmd: { controller: string; controllerName?: string }) => {
      const opts = { ...globals(), ...cmd };
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(opts.controller)) {
        throw new CallvaultError(ErrorCodes.USAGE, '--controller must be lower-case letters, digits and dashes');
      }
      const { vault, result } = await initDataDir(opts);
      await vault.close();
      print(opts, result, () =>
        [
          `Initialised ${result.dataDir}`,
          `controller ${result.controller.id}, key ${result.controller.keyId}`,
          `audit log verifier key (give it to your auditors): ${result.auditKey}`,
          '',
          'First admin account (shown once; store it now):',
          `  username     ${result.admin.username}`,
          `  password     ${result.admin.password}`,
          `  TOTP secret  ${result.admin.totpSecret}`,
          `  TOTP URI     ${result.admin.totpUri}`,
        ].join('\n'),
      );
    });
}
