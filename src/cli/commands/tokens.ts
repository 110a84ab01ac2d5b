/**
 * Machine tokens for recorders, as in the admin API. The token is printed once at creation; lists
 * and the audit log never hold it.
 */
import { Option, type Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { createToken } from '../../identities/tokens.js';
import { TOKEN_SCOPES, type TokenScope } from '../../policy/policy.js';
import { tokenView } from '../../http/routes/admin.js';
import { asUsage, cliActor, openVault, positiveInt, print, text, type GlobalOptions } from '../io.js';

function tokenState(t: ReturnType<typeof tokenView>, now: string): string {
  return t.revokedAt ? 'revoked' : t.expiresAt <= now ? 'expired' : 'live';
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const tokens = program.command('tokens').description('machine tokens for recorders: create, list, revoke');

  tokens
    .command('create')
    .description('create a token; prints it once')
    .requiredOption('--name <name>', 'what the token is for, e.g. the recorder it sits in', text(100))
    .addOption(new Option('--scope <scope>', 'what the token may do').choices(TOKEN_SCOPES).makeOptionMandatory())
    .requiredOption('--controller <id>', 'the controller whose recordings it may store')
    .option('--days <n>', 'days until it expires', positiveInt, 90)
    .action(async (cmd: { name: string; scope: TokenScope; controller: string; days: number }) => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const created = await asUsage(() => createToken(vault, { name: cmd.name, scope: cmd.scope, controllerId: cmd.controller, days: cmd.days }));
        await vault.audit.append({
          action: 'token.create',
          outcome: 'success',
          actor: cliActor(),
          controllerId: cmd.controller,
          detail: { tokenId: created.id, scope: cmd.scope, expiresAt: created.expiresAt },
        });
        print(opts, created, () => [`token ${created.id} expires ${created.expiresAt}; shown once, store it now:`, `  ${created.token}`].join('\n'));
      } finally {
        await vault.close();
      }
    });

  tokens
    .command('list')
    .description('every token (never its secret)')
    .action(async () => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const list = (await vault.sessions.tokens()).map(tokenView);
        const now = new Date().toISOString();
        print(opts, { tokens: list }, () =>
          list.map((t) => `${t.id}  ${t.name}  ${t.scope}  ${t.controllerId}  expires ${t.expiresAt}  ${tokenState(t, now)}`).join('\n'),
        );
      } finally {
        await vault.close();
      }
    });

  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'token id')
    .action(async (id: string) => {
      const opts = globals();
      const vault = await openVault(opts);
      try {
        const revokedAt = new Date().toISOString();
        if (!(await vault.sessions.revokeToken(id, revokedAt))) throw new CallvaultError(ErrorCodes.NOT_FOUND, 'no such live token');
        const row = await vault.sessions.token(id);
        await vault.audit.append({ action: 'token.revoke', outcome: 'success', actor: cliActor(), controllerId: row?.controller_id, detail: { tokenId: id } });
        print(opts, { id, revokedAt }, () => `token ${id} revoked`);
      } finally {
        await vault.close();
      }
    });
}
