/**
 * Human accounts from the command line, through the same service as the admin API
 * (src/services/administration.ts). One-time passwords and TOTP secrets are printed once and never
 * audited.
 */
import { Option, type Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { ROLES, type Role } from '../../identities/roles.js';
import type { NewUserCredentials } from '../../identities/users.js';
import type { UserView } from '../../services/administration.js';
import { asUsage, print, text, withServices, type GlobalOptions } from '../io.js';

interface AddOptions {
  role: Role;
  controller?: string;
  processor?: string;
  agent?: string;
  team?: string;
  oidcIssuer?: string;
  oidcSubject?: string;
}

function credentialsText(verb: string, c: NewUserCredentials): string {
  return [
    `user ${c.username} ${verb} (id ${c.id}); shown once, store it now:`,
    `  password     ${c.password}`,
    `  TOTP secret  ${c.totpSecret}`,
    `  TOTP URI     ${c.totpUri}`,
  ].join('\n');
}

function userLine(u: UserView): string {
  const org = u.controllerId ? `controller ${u.controllerId}` : u.processorId ? `processor ${u.processorId}` : '-';
  const state = u.disabled ? 'disabled' : u.locked ? 'locked' : u.totpEnrolled ? 'active' : 'not enrolled';
  return `${u.username.padEnd(20)}  ${u.role.padEnd(10)}  ${org.padEnd(24)}  ${state.padEnd(12)}  ${u.id}`;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const users = program.command('users').description('human accounts: add, list, reset, disable, enable');

  users
    .command('add')
    .description('add an account; prints its one-time password and TOTP secret, shown once (needs the passphrase)')
    .argument('<username>', '2 to 64 lower-case letters, digits, dots, dashes, underscores or @')
    .addOption(new Option('--role <role>', 'what the account may do').choices(ROLES).makeOptionMandatory())
    .addOption(new Option('--controller <id>', 'the controller (region) the account belongs to').conflicts('processor'))
    .addOption(new Option('--processor <id>', 'the processor (call-centre company) the account belongs to').conflicts('controller'))
    .option('--agent <agent>', 'the agent id the account records calls as', text(100))
    .option('--team <team>', 'the team the account belongs to', text(100))
    .option('--oidc-issuer <url>', 'sign in only through this OpenID provider (with --oidc-subject)', text(500))
    .option('--oidc-subject <sub>', 'the subject at that provider (with --oidc-issuer)', text(255))
    .action(async (username: string, cmd: AddOptions) => {
      const opts = globals();
      if (Boolean(cmd.oidcIssuer) !== Boolean(cmd.oidcSubject)) throw new CallvaultError(ErrorCodes.USAGE, '--oidc-issuer and --oidc-subject go together');
      if (cmd.oidcIssuer && !URL.canParse(cmd.oidcIssuer)) throw new CallvaultError(ErrorCodes.USAGE, '--oidc-issuer must be a URL');
      const spec = {
        username,
        role: cmd.role,
        controllerId: cmd.controller,
        processorId: cmd.processor,
        agent: cmd.agent,
        team: cmd.team,
        oidc: cmd.oidcIssuer ? { issuer: cmd.oidcIssuer, subject: cmd.oidcSubject! } : undefined,
      };
      const created = await withServices(opts, (services, actor) => asUsage(() => services.administration.createUser(actor, spec)), true);
      print(opts, created, () => credentialsText('added', created));
    });

  users
    .command('list')
    .description('every account (never passwords or TOTP secrets; no passphrase needed)')
    .action(async () => {
      const opts = globals();
      const list = await withServices(opts, (services, actor) => services.administration.listUsers(actor));
      print(opts, { users: list }, () => list.map(userLine).join('\n'));
    });

  users
    .command('reset')
    .description('a new one-time password and TOTP secret, shown once; every session of the account ends (needs the passphrase)')
    .argument('<username>')
    .action(async (username: string) => {
      const opts = globals();
      const credentials = await withServices(opts, (services, actor) => services.administration.resetUser(actor, { username }), true);
      print(opts, credentials, () => credentialsText('reset', credentials));
    });

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    users
      .command(name)
      .description(disabled ? 'disable an account and end its sessions' : 'enable an account again')
      .argument('<username>')
      .action(async (username: string) => {
        const opts = globals();
        const view = await withServices(opts, (services, actor) => services.administration.setUserDisabled(actor, { username }, disabled));
        print(opts, view, () => `user ${view.username} ${disabled ? 'disabled; its sessions have ended' : 'enabled'}`);
      });
  }
}
