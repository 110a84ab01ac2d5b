/**
 * `callvault audit review sample|queue|outcome|report`: the documented log review (loggkontroll)
 * at the command line, the same as `/api/v1/audit/review/…` (src/services/log-review.ts). Needs no
 * passphrase: it reads the audit log and writes the review's own tables.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { ReviewQueue, ReviewReport, ReviewSampleView } from '../../services/log-review.js';
import { REVIEW_OUTCOMES } from '../../services/log-review.js';
import { asUsage, count, positiveInt, print, withServices, type GlobalOptions } from '../io.js';

function period(value: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new InvalidArgumentError('must be a month, YYYY-MM');
  return value;
}

function outcome(value: string): string {
  if (!(REVIEW_OUTCOMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${REVIEW_OUTCOMES.join(', ')}`);
  return value;
}

/** one sampled access on one line */
function line(s: ReviewSampleView): string {
  const who = s.user ? `${s.user}${s.role ? ` (${s.role})` : ''}` : '?';
  const purpose = [s.purpose, s.breakGlass ? 'BREAK-THE-GLASS' : '', s.rendition === 'original' ? 'original' : ''].filter(Boolean).join(' ');
  const found = s.outcome ? `${s.outcome.toUpperCase()}: ${s.note ?? ''}` : 'not checked';
  return [s.id, String(s.position).padStart(8), s.time ?? '?', who, s.action ?? '?', s.recordingId ?? '?', purpose || '—', `chosen: ${s.chosenBy}`, found].join('  ');
}

function describeQueue(q: ReviewQueue): string {
  if (!q.seed) return `no sample has been drawn for ${q.period}`;
  return [
    `log review ${q.period}: ${count(q.samples.length, 'access', 'accesses')} sampled of ${q.method?.accesses ?? '?'}, ${q.checked} checked; drawn ${q.drawnAt} by ${q.drawnBy}, seed ${q.seed}`,
    ...q.samples.map(line),
  ].join('\n');
}

function counts(c: Record<string, number>): string {
  const parts = Object.entries(c).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'none';
}

function describeReport(r: ReviewReport): string {
  const out = [`Log review (loggkontroll) for ${r.period}`, `  period: ${r.from} to ${r.to} (${r.timeZone})`, `  accesses in the period: ${r.accesses}`];
  if (!r.drawn) {
    out.push('  no sample has been drawn');
  } else {
    const m = r.drawn.method;
    out.push(
      `  sample: ${count(r.sampled, 'access', 'accesses')} drawn ${r.drawn.drawnAt} by ${r.drawn.drawnBy} (of ${m.accesses} then; ${m.weighted} rule-weighted, ${m.random} at random)`,
      `  chosen by: ${counts(r.chosenBy)}`,
      `  flagged by rules when drawn: ${counts(m.flagged)}`,
      `  seed ${r.drawn.seed}, over the first ${count(m.logSize, 'entry', 'entries')}: ${r.drawn.reproduced ? 'drawing again gives the same sample' : 'DRAWING AGAIN GIVES ANOTHER SAMPLE'}`,
    );
  }
  out.push(
    `  checked: ${r.checked} of ${r.sampled}`,
    `  outcomes: ${counts(r.outcomes)}`,
    `  reviewed by: ${r.reviewers.map((x) => `${x.reviewer} (${x.checked})`).join(', ') || 'nobody yet'}`,
  );
  out.push(`Alerts raised in the period: ${r.alerts.reduce((n, a) => n + a.raised, 0)}`);
  for (const a of r.alerts) out.push(`  ${a.rule}: ${a.raised} raised, ${a.open} open, ${a.closed} closed; outcomes ${counts(a.outcomes)}`);
  if (r.samples.length) out.push('Sampled accesses:', ...r.samples.map((s) => `  ${line(s)}`));
  return out.join('\n');
}

export function registerReview(audit: Command, globals: () => GlobalOptions): void {
  const review = audit.command('review').description('the documented log review (loggkontroll): a monthly sample of accesses, checked and reported');

  review
    .command('sample')
    .description("draw the month's reproducible sample of accesses (random and rule-weighted); a month's sample is drawn once")
    .requiredOption('--period <YYYY-MM>', 'the month (Europe/Stockholm)', period)
    .requiredOption('--count <n>', 'how many accesses to draw', positiveInt)
    .action(async (cmd: { period: string; count: number }) => {
      const opts = globals();
      const queue = await withServices(opts, (services, actor) => asUsage(() => services.logReview.sample(actor, cmd.period, cmd.count)));
      print(opts, { period: queue.period, seed: queue.seed, method: queue.method, samples: queue.samples }, () => describeQueue(queue));
    });

  review
    .command('queue')
    .description("the month's sampled accesses and what each check found")
    .requiredOption('--period <YYYY-MM>', 'the month (Europe/Stockholm)', period)
    .action(async (cmd: { period: string }) => {
      const opts = globals();
      const queue = await withServices(opts, (services, actor) => asUsage(() => services.logReview.queue(actor, cmd.period)));
      print(opts, queue, () => describeQueue(queue));
    });

  review
    .command('outcome')
    .description('record what the check of one sampled access found (a later outcome replaces it; the log keeps both)')
    .argument('<sampleId>', 'the sampled access, as `sample` or `queue` lists it')
    .requiredOption('--outcome <outcome>', REVIEW_OUTCOMES.join(', '), outcome)
    .requiredOption('--note <text>', 'what was checked and found (an identifier in it is kept as its label)')
    .action(async (sampleId: string, cmd: { outcome: string; note: string }) => {
      const opts = globals();
      const sample = await withServices(opts, (services, actor) => asUsage(() => services.logReview.outcome(actor, sampleId, cmd.outcome, cmd.note)));
      print(opts, sample, () => line(sample));
    });

  review
    .command('report')
    .description("the month's documented review: accesses, how the sample was drawn, checked and found, the month's alerts, who reviewed")
    .requiredOption('--period <YYYY-MM>', 'the month (Europe/Stockholm)', period)
    .action(async (cmd: { period: string }) => {
      const opts = globals();
      const report = await withServices(opts, (services, actor) => asUsage(() => services.logReview.report(actor, cmd.period)));
      print(opts, report, () => describeReport(report));
    });
}
