/**
 * Human accounts from the command line, through the same service as the admin API
 * (src/services/administration.ts). A new or reset account gets a single-use enrolment code,
 * printed once and never audited: the person sets their own password and authenticator with it.
 * The operator on the host holds the keyring, so what they make needs no second approval, and
 * they approve or refuse what an administrator asked for (`users approve|refuse`).
 */
import { Option, type Command } from 'commander';
import { CallvaultError, ErrorCodes } from '../../errors.js';
import { ROLES, type Role } from '../../identities/roles.js';
import type { AccountRequest } from '../../identities/users.js';
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
  personnummer?: string;
  phone?: string;
  hours?: string;
}

interface EditOptions {
  personnummer?: string;
  phone?: string;
  hours?: string;
  clearIdentifiers?: boolean;
}

function accountText(verb: string, a: AccountRequest): string {
  const lines = [`user ${a.username} ${verb} (id ${a.id})${a.approval === 'pending' ? '; it waits for approval' : ''}`];
  if (a.enrolment) {
    lines.push(
      `  enrolment code  ${a.enrolment.code}  (single-use, until ${a.enrolment.expiresAt}; shown once)`,
      '  hand it to the person: they set their password and authenticator with it at the sign-in page',
    );
  } else lines.push('  signs in at its OpenID provider');
  return lines.join('\n');
}

function userLine(u: UserView): string {
  const org = u.controllerId ? `controller ${u.controllerId}` : u.processorId ? `processor ${u.processorId}` : '-';
  const state = u.disabled ? 'disabled' : u.locked ? 'locked' : u.totpEnrolled ? 'active' : 'not enrolled';
  return `${u.username.padEnd(20)}  ${u.role.padEnd(10)}  ${org.padEnd(24)}  ${state.padEnd(12)}  ${u.id}`;
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const users = program.command('users').description('human accounts: add, edit, list, reset, disable, enable, pending, approve, refuse');

  users
    .command('add')
    .description('add an account; prints a single-use enrolment code for the person, shown once (needs the passphrase)')
    .argument('<username>', '2 to 64 lower-case letters, digits, dots, dashes, underscores or @')
    .addOption(new Option('--role <role>', 'what the account may do').choices(ROLES).makeOptionMandatory())
    .addOption(new Option('--controller <id>', 'the controller (region) the account belongs to').conflicts('processor'))
    .addOption(new Option('--processor <id>', 'the processor (call-centre company) the account belongs to').conflicts('controller'))
    .option('--agent <agent>', 'the agent id the account records calls as', text(100))
    .option('--team <team>', 'the team the account belongs to', text(100))
    .option('--oidc-issuer <url>', 'sign in only through this OpenID provider (with --oidc-subject)', text(500))
    .option('--oidc-subject <sub>', 'the subject at that provider (with --oidc-issuer)', text(255))
    .option('--personnummer <value>', "the person's own personnummer, stored as keyed digests only: their access to a call of their own raises an alert")
    .option('--phone <value>', "the person's own phone number, stored as keyed digests only")
    .option('--hours <HH:MM-HH:MM>', 'working hours (Europe/Stockholm), e.g. 07:00-17:00; access outside them raises an alert')
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
        personnummer: cmd.personnummer,
        phone: cmd.phone,
        hours: cmd.hours,
      };
      const created = await withServices(opts, (services, actor) => asUsage(() => services.administration.createUser(actor, spec)), true);
      print(opts, created, () => accountText('added', created));
    });

  users
    .command('edit')
    .description(
      "a member of staff's own identifiers (stored as keyed digests only) and working hours, for the insider-misuse alerts; needs no second approval (needs the passphrase for identifiers)",
    )
    .argument('<username>')
    .option('--personnummer <value>', "the person's own personnummer (replaces the one stored)")
    .option('--phone <value>', "the person's own phone number (replaces the one stored)")
    .option('--hours <HH:MM-HH:MM|none>', 'working hours, e.g. 07:00-17:00 or 22:00-06:00; none removes them (no after-hours alerts)')
    .option('--clear-identifiers', 'remove the stored personnummer and phone number first')
    .action(async (username: string, cmd: EditOptions) => {
      const opts = globals();
      const changes = {
        personnummer: cmd.personnummer,
        phone: cmd.phone,
        hours: cmd.hours === undefined ? undefined : cmd.hours === 'none' ? null : cmd.hours,
        clearIdentifiers: cmd.clearIdentifiers,
      };
      // digests need the keyring; hours alone do not
      const unlocked = Boolean(cmd.personnummer || cmd.phone);
      const view = await withServices(opts, (services, actor) => asUsage(() => services.administration.editUser(actor, { username }, changes)), unlocked);
      print(opts, view, () => {
        const stored = Object.entries(view.identifiers)
          .filter(([, has]) => has)
          .map(([k]) => k);
        return `user ${view.username}: working hours ${view.workHours ?? 'none'}; identifiers stored (as digests): ${stored.join(', ') || 'none'}`;
      });
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
    .description('replace the credentials by a new enrolment code, shown once; every session of the account ends (needs the passphrase)')
    .argument('<username>')
    .action(async (username: string) => {
      const opts = globals();
      const credentials = await withServices(opts, (services, actor) => services.administration.resetUser(actor, { username }), true);
      print(opts, credentials, () => accountText('reset', credentials));
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

  users
    .command('pending')
    .description('accounts and contracts an administrator asked for that wait for approval')
    .action(async () => {
      const opts = globals();
      const pending = await withServices(opts, (services, actor) => services.administration.pendingApprovals(actor));
      print(
        opts,
        pending,
        () =>
          [
            ...pending.users.map((u) => `user      ${userLine(u)}  (${u.approvalRequest ?? 'create'})`),
            ...pending.contracts.map((c) => `contract  ${c.id}  ${c.processorId} → ${c.controllerId}  ${c.roles.join(',')}`),
          ].join('\n') || 'nothing waits for approval',
      );
    });

  for (const decision of ['approve', 'refuse'] as const) {
    users
      .command(decision)
      .description(
        decision === 'approve'
          ? 'approve what waits for approval on an account, as the key custodian (needs the passphrase)'
          : 'refuse it: the account can do nothing (needs the passphrase)',
      )
      .argument('<username>')
      .action(async (username: string) => {
        const opts = globals();
        const view = await withServices(opts, (services, actor) => services.administration.decideUser(actor, { username }, decision), true);
        print(opts, view, () => `user ${view.username} ${decision === 'approve' ? 'approved' : 'refused'}`);
      });
  }
}
