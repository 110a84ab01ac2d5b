import type { Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { rewrapRetired, rotateKeys } from '../../keys/rotation.js';
import { cliActor, openUnlocked, openVault, print, type GlobalOptions } from '../io.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const keys = program.command('keys').description('controller key pairs: list, rotate, rewrap');

  keys
    .command('list')
    .description('every controller key, its status and how many recordings it holds (no passphrase needed)')
    .action(async () => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const counts = await vault.recordings.countByKey();
        const list = (await vault.keys.list()).map((k) => ({
          keyId: k.keyId,
          controller: k.controllerId,
          status: k.status,
          createdAt: k.createdAt,
          recordings: counts.get(k.keyId) ?? 0,
        }));
        print(opts, { keys: list }, () => list.map((k) => `${k.keyId}  ${k.controller}  ${k.status.padEnd(7)}  ${k.recordings} recordings  ${k.createdAt}`).join('\n'));
      } finally {
        await vault.close();
      }
    });

  keys
    .command('rotate')
    .description('make a new key pair for new recordings; older recordings stay readable')
    .option('--controller <id>', 'only this controller (default: every controller)')
    .action(async (cmd: { controller?: string }) => {
      const opts = globals();
      const vault = await openUnlocked(opts);
      try {
        const all = (await vault.controllers.list()).map((c) => c.id);
        if (cmd.controller && !all.includes(cmd.controller)) throw new CallvaultError(ErrorCodes.CONTROLLER_UNKNOWN, 'no such controller');
        const ids = cmd.controller ? [cmd.controller] : all;
        const previous = new Map<string, string>();
        for (const k of await vault.keys.list()) if (k.status === 'active' && ids.includes(k.controllerId)) previous.set(k.controllerId, k.keyId);
        const created = await rotateKeys(vault, ids);
        for (const k of created) {
          await vault.audit.append({
            action: 'key.rotate',
            outcome: 'success',
            actor: cliActor(),
            controllerId: k.controllerId,
            detail: { keyId: k.keyId, retiredKeyId: previous.get(k.controllerId) ?? null },
          });
        }
        const out = created.map((k) => ({ keyId: k.keyId, controller: k.controllerId }));
        print(opts, { rotated: out }, () => out.map((k) => `controller ${k.controller}: new active key ${k.keyId}`).join('\n'));
      } finally {
        await vault.close();
      }
    });

  keys
    .command('rewrap')
    .description('move the data keys of recordings under retired keys to the active keys, without touching audio')
    .action(async () => {
      const opts = globals();
      const vault = await openUnlocked(opts);
      try {
        const before = await vault.recordings.countByKey();
        const result = await rewrapRetired(vault);
        const after = await vault.recordings.countByKey();
        // one entry per controller whose retired keys held data keys: which keys, to which key, how many
        const byController = new Map<string, { fromKeyIds: string[]; toKeyId: string; rewrapped: number }>();
        for (const key of await vault.keys.list()) {
          const held = before.get(key.keyId) ?? 0;
          if (key.status !== 'retired' || held === 0) continue;
          const entry = byController.get(key.controllerId) ?? { fromKeyIds: [], toKeyId: (await vault.keys.activeKey(key.controllerId)).keyId, rewrapped: 0 };
          entry.fromKeyIds.push(key.keyId);
          entry.rewrapped += held - (after.get(key.keyId) ?? 0);
          byController.set(key.controllerId, entry);
        }
        for (const [controllerId, detail] of byController) {
          await vault.audit.append({ action: 'key.rewrap', outcome: 'success', actor: cliActor(), controllerId, detail });
        }
        if (byController.size === 0) await vault.audit.append({ action: 'key.rewrap', outcome: 'success', actor: cliActor(), detail: { rewrapped: 0 } });
        print(opts, result, () => `${result.rewrapped} data keys rewrapped`);
      } finally {
        await vault.close();
      }
    });
}
