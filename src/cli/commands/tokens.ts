/**
 * Machine tokens for recorders, as in the admin API: both go through
 * src/services/administration.ts. The token is printed once at creation; lists and the audit log
 * never hold it.
 */
import { Option, type Command } from 'commander';
import { TOKEN_SCOPES, type TokenScope } from '../../services/vocabulary.js';
import type { TokenView } from '../../services/administration.js';
import { asUsage, commaList, positiveInt, print, text, withServices, type GlobalOptions } from '../io.js';

function tokenState(t: TokenView, now: string): string {
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
    .option('--regions <regions>', 'comma-separated regions whose calls it may store (default: every region)', commaList)
    .option('--agents <agents>', 'comma-separated agents whose calls it may store (default: every agent)', commaList)
    .action(async (cmd: { name: string; scope: TokenScope; controller: string; days: number; regions?: string[]; agents?: string[] }) => {
      const opts = globals();
      const spec = { name: cmd.name, scope: cmd.scope, controllerId: cmd.controller, days: cmd.days, regions: cmd.regions, agents: cmd.agents };
      const created = await withServices(opts, (services, actor) => asUsage(() => services.administration.createToken(actor, spec)));
      print(opts, created, () => [`token ${created.id} expires ${created.expiresAt}; shown once, store it now:`, `  ${created.token}`].join('\n'));
    });

  tokens
    .command('list')
    .description('every token (never its secret)')
    .action(async () => {
      const opts = globals();
      const list = await withServices(opts, (services, actor) => services.administration.listTokens(actor));
      const now = new Date().toISOString();
      print(opts, { tokens: list }, () =>
        list
          .map(
            (t) =>
              `${t.id}  ${t.name}  ${t.scope}  ${t.controllerId}  regions ${t.regions?.join(',') ?? 'all'}  agents ${t.agents?.join(',') ?? 'all'}  expires ${t.expiresAt}  ${tokenState(t, now)}`,
          )
          .join('\n'),
      );
    });

  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'token id')
    .action(async (id: string) => {
      const opts = globals();
      const revoked = await withServices(opts, (services, actor) => services.administration.revokeToken(actor, id));
      print(opts, revoked, () => `token ${id} revoked`);
    });
}
