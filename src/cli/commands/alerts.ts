/**
 * `callvault alerts …` (docs/alerts.md), through src/services/alerts.ts as the API's routes are:
 * the insider-misuse alerts, their review, a controller's thresholds, and the backtest of the rules
 * over stored history.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { RULES } from '../../alerts/detector.js';
import type { AlertView } from '../../services/alerts.js';
import { OUTCOMES } from '../../services/alerts.js';
import { count, isoDate, oneOf, print, withServices, type GlobalOptions } from '../io.js';

function alertLine(a: AlertView): string {
  const review = a.state === 'closed' ? `  ${a.outcome} by ${a.resolvedByName ?? a.resolvedBy}` : '';
  return `${a.id}  ${a.createdAt}  ${a.state.toUpperCase()}  ${a.severity}  ${a.rule}  ${a.user ?? '-'}: ${a.evidence}${review}`;
}

/** `--set name=value`, repeatable */
function collectSetting(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([A-Za-z]+)=(.+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('is NAME=VALUE, e.g. volumeFactor=5');
  return { ...previous, [m[1]!]: m[2]! };
}

export function register(program: Command, globals: () => GlobalOptions): void {
  const alerts = program.command('alerts').description('insider-misuse alerts: list, resolve, thresholds, backtest');

  alerts
    .command('list')
    .description('alerts, newest first (open ones unless --state says otherwise)')
    .option('--state <state>', 'open, closed or all', oneOf(['open', 'closed', 'all']), 'open')
    .option('--rule <rule>', `one rule: ${RULES.join(', ')}`, oneOf(RULES))
    .action(async (cmd: { state: 'open' | 'closed' | 'all'; rule?: string }) => {
      const opts = globals();
      const list = await withServices(opts, (services, actor) => services.alerts.list(actor, { state: cmd.state, rule: cmd.rule }));
      print(opts, list, () => (list.length ? list.map(alertLine).join('\n') : `no ${cmd.state === 'all' ? '' : `${cmd.state} `}alerts`));
    });

  alerts
    .command('resolve')
    .description('close an alert with the outcome of its review; the review is an audit entry')
    .argument('<id>', 'the alert')
    .requiredOption('--outcome <outcome>', OUTCOMES.join(', '), oneOf(OUTCOMES))
    .requiredOption('--note <text>', 'what the review found (identifiers in it are kept as labels)')
    .action(async (id: string, cmd: { outcome: string; note: string }) => {
      const opts = globals();
      const alert = await withServices(opts, (services, actor) => services.alerts.resolve(actor, id, { outcome: cmd.outcome, note: cmd.note }));
      print(opts, alert, () => alertLine(alert));
    });

  alerts
    .command('settings')
    .description("a controller's thresholds (docs/alerts.md); --set changes one, and is audited")
    .requiredOption('--controller <id>', 'the controller')
    .option('--set <name=value>', 'a threshold to change (repeatable)', collectSetting)
    .action(async (cmd: { controller: string; set?: Record<string, string> }) => {
      const opts = globals();
      const thresholds = await withServices(opts, (services, actor) =>
        cmd.set ? services.alerts.setThresholds(actor, cmd.controller, cmd.set) : services.alerts.thresholds(actor, cmd.controller),
      );
      print(opts, thresholds, () =>
        Object.entries(thresholds)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n'),
      );
    });

  alerts
    .command('backtest')
    .description('run the rules over stored history without raising alerts: what would thresholds have flagged (needs the passphrase: canaries are sealed)')
    .requiredOption('--from <time>', 'start, ISO 8601', isoDate)
    .requiredOption('--to <time>', 'end, ISO 8601', isoDate)
    .option('--set <name=value>', 'a threshold to try instead of the stored one (repeatable)', collectSetting)
    .action(async (cmd: { from: string; to: string; set?: Record<string, string> }) => {
      const opts = globals();
      const report = await withServices(opts, (services, actor) => services.alerts.backtest(actor, { from: new Date(cmd.from), to: new Date(cmd.to), overrides: cmd.set }), true);
      print(opts, report, () =>
        [
          `${count(report.entries, 'entry', 'entries')} from ${report.from} to ${report.to}: ${count(report.alerts.length, 'alert')}`,
          ...Object.entries(report.byRule).map(([rule, n]) => `  ${rule}: ${n}`),
          ...report.alerts.map((a) => `${a.firstAt}  ${a.rule}  ${a.user}: ${a.evidence}`),
        ].join('\n'),
      );
    });
}
