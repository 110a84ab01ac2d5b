/**
 * What an alert's evidence says, as facts (a kind and its counts) rather than words, so that each
 * reader phrases it in its own language: the web UI in Swedish or English, the CLI, the API's
 * `evidence` text and the outputs in English (evidenceInEnglish). Facts are counts, audit actions
 * and the account's working hours: never an identifier.
 */

export const EVIDENCE_KINDS = [
  'canary',
  'protected-person',
  'own-call',
  'colleague-call',
  'unexplained',
  'after-hours',
  'volume-hour',
  'volume-day',
  'export-volume',
  'search-persons',
  'search-unfollowed',
  'break-glass-starts',
  'break-glass-calls',
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** what a volume limit was measured against: the account's own usual, its peers', or the fixed default */
export interface Usual {
  basis: 'own' | 'peers' | 'default';
  value?: number;
}

export interface Evidence {
  kind: EvidenceKind;
  /** the audit action that reached the call */
  action?: string;
  /** the account's working hours, `HH:MM-HH:MM` */
  workHours?: string;
  /** what the rule counted: calls, exports, people searched, searches or periods, by kind */
  count?: number;
  /** the minutes in which `count` calls were reached (volume-hour) */
  minutes?: number;
  /** the calls and people reached today so far (volume) */
  calls?: number;
  persons?: number;
  limit?: number;
  usual?: Usual;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function usualDay(u: Usual | undefined, unit: string, otherwise: string): string {
  if (u?.basis === 'own') return `the account's usual day is ${plural(Math.round(u.value ?? 0), unit)}`;
  if (u?.basis === 'peers') return `its peers' usual day is ${plural(Math.round(u.value ?? 0), unit)}`;
  return otherwise;
}

function usualOfPeers(u: Usual | undefined, clause: (value: number) => string): string {
  return u?.basis === 'peers' ? `peers of the role ${clause(u.value ?? 0)} (90th percentile)` : 'the fixed default applies';
}

/** the evidence in English: what the CLI prints, the API's `evidence` field and the outputs send */
export function evidenceInEnglish(e: Evidence): string {
  const n = e.count ?? 0;
  switch (e.kind) {
    case 'canary':
      return `reached a canary recording (${e.action}); canaries are planted calls that no work needs`;
    case 'protected-person':
      return `reached a call of a person marked protected (${e.action})`;
    case 'own-call':
      return `reached a call in which the caller is the account's own person (${e.action})`;
    case 'colleague-call':
      return `reached a call in which the caller is a registered member of staff, a call the account did not handle (${e.action})`;
    case 'unexplained':
      return 'reached a call that nothing explains: not handled by the account, no other call of the caller handled by it, not in a team it supervises, not found by a subject search, no break-the-glass';
    case 'after-hours':
      return `reached calls outside the account's working hours (${e.workHours})`;
    case 'volume-hour':
    case 'volume-day': {
      const today = `${plural(e.calls ?? 0, 'call')} of ${plural(e.persons ?? 0, 'person', 'people')} today`;
      const usual = usualDay(e.usual, 'call', 'no history yet, so the fixed defaults apply');
      return e.kind === 'volume-hour'
        ? `reached ${plural(n, 'call')} in ${plural(e.minutes ?? 0, 'minute')} (${today}); ${usual} (limit ${e.limit} an hour)`
        : `reached ${today}; ${usual} (limit ${e.limit} a day)`;
    }
    case 'export-volume':
      return `exported or opened the original of ${plural(n, 'call')} today; ${usualDay(e.usual, 'export', 'no history yet, so the fixed default applies')} (limit ${e.limit})`;
    case 'search-persons':
      return `searched for ${plural(n, 'person', 'people')} by personnummer or phone number today (limit ${e.limit})`;
    case 'search-unfollowed':
      return `searched for a person by personnummer or phone number ${plural(n, 'time')} today without then stating a purpose for any call (a look-up, not a case)`;
    case 'break-glass-starts':
      return `started break-the-glass ${plural(n, 'time')} in 7 days; ${usualOfPeers(e.usual, (v) => `start at most ${plural(v, 'period')} a week`)} (limit ${e.limit})`;
    case 'break-glass-calls':
      return `reached ${plural(n, 'call')} under one break-the-glass period; ${usualOfPeers(e.usual, (v) => `reach at most ${plural(v, 'call')} in one period`)} (limit ${e.limit})`;
  }
}
