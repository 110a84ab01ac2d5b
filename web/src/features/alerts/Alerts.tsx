/**
 * Insider-misuse alerts (docs/alerts.md) on the auditor's and the privacy officer's pages: a loud
 * banner at the top while any is open, the list (open, closed or all; by rule) with the evidence
 * in words, a resolve dialog (outcome and note) for open ones, and a controller's thresholds.
 * The server decides what the user sees: an auditor every alert, a privacy officer those about
 * the controllers in reach; nobody resolves an alert about their own account, so the page offers
 * no button for it.
 *
 * Every listing is itself an audit entry (`alert.list`), so the open alerts are asked for once per
 * page and shared by the banner and the list (the store below), and again only after a change.
 */
import { useCallback, useEffect, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { ErrorText } from '../../shared/components/ErrorText';
import { Modal } from '../../shared/components/Modal';
import { dateTime, masked } from '../../shared/format';
import { useNames, useSession } from '../../shared/session';
import { shortId, useRoleName } from '../audit/AuditParts';

type Alert = paths['/api/v1/alerts']['get']['responses'][200]['content']['application/json'][number];
type AlertQuery = NonNullable<paths['/api/v1/alerts']['get']['parameters']['query']>;
type Rule = NonNullable<AlertQuery['rule']>;
type StateFilter = NonNullable<AlertQuery['state']>;
type ThresholdsAnswer = paths['/api/v1/alert-settings/{controllerId}']['get']['responses'][200]['content']['application/json'];
type ThresholdChanges = paths['/api/v1/alert-settings/{controllerId}']['put']['requestBody']['content']['application/json'];
/** the thresholds by name, in the server's order: the form shows whatever the server answers */
type Thresholds = Record<string, number | boolean>;
const byName = (answer: ThresholdsAnswer): Thresholds => answer;
type Outcome = paths['/api/v1/alerts/{id}/resolve']['post']['requestBody']['content']['application/json']['outcome'];

const RULES: readonly Rule[] = ['canary', 'protected-person', 'self-or-colleague', 'volume', 'subject-search', 'unexplained', 'after-hours', 'break-glass', 'export-volume'];
const STATES: readonly StateFilter[] = ['open', 'closed', 'all'];
const OUTCOMES: readonly Outcome[] = ['justified', 'misuse', 'false-positive'];
const SEVERITIES = new Set(['high', 'medium', 'low']);
const NOTE_MIN = 5;
const RANK: Record<string, number> = { high: 0, medium: 1, low: 2 };

/** open before closed, then high severity first; the server's order (newest first) within each */
function byUrgency(a: Alert, b: Alert): number {
  return Number(a.state === 'closed') - Number(b.state === 'closed') || (RANK[a.severity] ?? 1) - (RANK[b.severity] ?? 1);
}
/** where the banner's link leads: the section on either page */
export const ALERTS_ANCHOR = 'alerts';

/* ------------------------------------------------------------------ the open alerts, shared */

interface Listing {
  alerts: Alert[] | null;
  error: ApiError | null;
}
let openAlerts: Listing = { alerts: null, error: null };
let loading: Promise<void> | undefined;
const listeners = new Set<() => void>();

/** asks the server for the open alerts; calls made while one is on its way share it */
function reloadOpenAlerts(): Promise<void> {
  loading ??= (async () => {
    const { data, error } = await api.GET('/api/v1/alerts', { params: { query: { state: 'open' } } });
    openAlerts = data ? { alerts: data, error: null } : { alerts: openAlerts.alerts, error: errorOf(error) };
    loading = undefined;
    for (const l of listeners) l();
  })();
  return loading;
}

function useOpenAlerts(): Listing {
  return useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    () => openAlerts,
  );
}

/* ------------------------------------------------------------------ the banner */

/** at the top of the page, while any alert is open: how many, how many high, and a way to them (`href`: where the alerts section is) */
export function AlertsBanner({ href = `#${ALERTS_ANCHOR}` }: { href?: string }) {
  const { t } = useTranslation('alerts');
  const { alerts } = useOpenAlerts();
  useEffect(() => void reloadOpenAlerts(), []);
  const open = alerts?.length ?? 0;
  if (open === 0) return null;
  const high = alerts!.filter((a) => a.severity === 'high').length;
  return (
    <div className={high > 0 ? 'alerts-banner high' : 'alerts-banner'} role="alert">
      <p>
        <strong>
          <span aria-hidden="true">⚠ </span>
          {t('banner.open', { count: open })}
        </strong>
        {high > 0 && <> ({t('banner.high', { count: high })})</>}
      </p>
      {href.startsWith('#') ? <a href={href}>{t('banner.review')}</a> : <Link to={href}>{t('banner.review')}</Link>}
    </div>
  );
}

/* ------------------------------------------------------------------ the section */

export function AlertsSection() {
  const { t } = useTranslation('alerts');
  const { t: tc } = useTranslation();
  const { can } = useSession();
  const id = useId();
  const shared = useOpenAlerts();
  const [state, setState] = useState<StateFilter>('open');
  const [rule, setRule] = useState<Rule | ''>('');
  const [own, setOwn] = useState<Listing>({ alerts: null, error: null });
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const [resolving, setResolving] = useState<Alert | null>(null);
  // the open alerts of every rule are the banner's: other choices are asked for here
  const usesShared = state === 'open' && rule === '';

  const loadOwn = useCallback(async () => {
    if (usesShared) return;
    setBusy(true);
    const { data, error } = await api.GET('/api/v1/alerts', { params: { query: { state, ...(rule ? { rule } : {}) } } });
    setBusy(false);
    setOwn(data ? { alerts: data, error: null } : { alerts: null, error: errorOf(error) });
  }, [state, rule, usesShared]);
  useEffect(() => {
    void loadOwn();
  }, [loadOwn]);

  const listing = usesShared ? shared : own;
  const { error } = listing;
  const alerts = listing.alerts && [...listing.alerts].sort(byUrgency);
  return (
    <>
      <p>{t('intro')}</p>
      <form className="filters alert-filters" aria-label={t('filters')} onSubmit={(e) => e.preventDefault()}>
        <fieldset className="choice">
          <legend>{t('show')}</legend>
          {STATES.map((s) => (
            <label key={s} className="check">
              <input type="radio" name={`${id}-state`} value={s} checked={state === s} onChange={() => setState(s)} />
              {t(`states.${s}`)}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-rule`}>{t('rule')}</label>
          <select id={`${id}-rule`} value={rule} onChange={(e) => setRule(e.target.value as Rule | '')}>
            <option value="">{t('anyRule')}</option>
            {RULES.map((r) => (
              <option key={r} value={r}>
                {t(`rules.${r}`)}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorText error={error} />
      <p className="status" role="status" aria-live="polite">
        {status || (busy || alerts === null ? (error ? '' : tc('loading')) : alerts.length ? t('count', { count: alerts.length }) : t(`empty.${state}`))}
      </p>
      {alerts && alerts.length > 0 && (
        <ul className="alert-list">
          {alerts.map((a) => (
            <li key={a.id}>
              <AlertCard alert={a} onResolve={can('alerts:resolve') ? () => setResolving(a) : undefined} />
            </li>
          ))}
        </ul>
      )}
      {resolving && (
        <ResolveDialog
          alert={resolving}
          onClose={() => setResolving(null)}
          onResolved={(done) => {
            setResolving(null);
            setStatus(
              t('resolve.done', {
                rule: t(`rules.${done.rule as Rule}`, { defaultValue: done.rule }),
                user: done.user ?? '—',
                outcome: t(`outcomes.${done.outcome as Outcome}`, { defaultValue: done.outcome ?? '' }),
              }),
            );
            void reloadOpenAlerts();
            void loadOwn();
          }}
        />
      )}
      {can('alerts:manage') && (
        <>
          <h3>{t('thresholds.heading')}</h3>
          <ThresholdsView known={[...new Set((alerts ?? []).flatMap((a) => a.controllers))]} />
        </>
      )}
    </>
  );
}

function AlertCard({ alert: a, onResolve }: { alert: Alert; onResolve: (() => void) | undefined }) {
  const { t } = useTranslation('alerts');
  const { user, can, names } = useSession();
  const roleName = useRoleName();
  const headingId = useId();
  const severity = SEVERITIES.has(a.severity) ? (a.severity as 'high') : 'medium';
  const rule = t(`rules.${a.rule as Rule}`, { defaultValue: a.rule });
  const mine = a.userId !== null && a.userId === user.id;
  // a canary is not linked: opening it would be an access of its own, and raise another alert
  const linkable = can('recording:view') && a.rule !== 'canary';
  return (
    <article className={`alert-card severity-${severity} ${a.state}`} aria-labelledby={headingId}>
      <header>
        <h3 id={headingId}>
          {rule} — {a.user ?? '—'}
        </h3>
        <span className={`severity severity-${severity}`}>
          {t('severity')}: {t(`severities.${severity}`)}
        </span>
        <span className={`alert-state ${a.state}`}>{t(`states.${a.state}`)}</span>
      </header>
      <p className="hint">{t(`ruleHints.${a.rule as Rule}`, { defaultValue: '' })}</p>
      <dl className="facts">
        <dt>{t('account')}</dt>
        <dd>
          {a.user ?? '—'}
          {a.role ? ` (${roleName(a.role)})` : ''}
          {mine ? ` ${t('you')}` : ''}
        </dd>
        <dt>{t('raised')}</dt>
        <dd>{dateTime(a.createdAt)}</dd>
        {a.updatedAt !== a.createdAt && (
          <>
            <dt>{t('lastEvidence')}</dt>
            <dd>{dateTime(a.updatedAt)}</dd>
          </>
        )}
        <dt>{t('evidence')}</dt>
        <dd>
          <EvidenceText alert={a} />
        </dd>
        <dt>{t('recordings')}</dt>
        <dd>
          {a.recordings.length === 0
            ? '—'
            : a.recordings.map((r, i) => (
                <span key={r}>
                  {i > 0 && ', '}
                  {linkable ? (
                    <Link to={`/recordings/${r}`} title={r}>
                      {shortId(r)}
                    </Link>
                  ) : (
                    <code title={r}>{shortId(r)}</code>
                  )}
                </span>
              ))}
          {a.rule === 'canary' && can('recording:view') && <span className="hint block">{t('canaryLink')}</span>}
        </dd>
        {a.controllers.length > 0 && (
          <>
            <dt>{t('controllers')}</dt>
            <dd>{a.controllers.map(names.controller).join(', ')}</dd>
          </>
        )}
        <dt>{t('entries')}</dt>
        <dd>{a.entries.length ? a.entries.map((e) => `#${e}`).join(', ') : '—'}</dd>
        {a.state === 'closed' && (
          <>
            <dt>{t('outcome')}</dt>
            <dd>
              <strong>{a.outcome ? t(`outcomes.${a.outcome as Outcome}`, { defaultValue: a.outcome }) : '—'}</strong>
            </dd>
            <dt>{t('note')}</dt>
            <dd className="reason">{a.note ? masked(a.note) : '—'}</dd>
            <dt>{t('resolvedBy')}</dt>
            <dd>{a.resolvedByName ?? shortId(a.resolvedBy)}</dd>
            <dt>{t('resolvedAt')}</dt>
            <dd>{dateTime(a.resolvedAt)}</dd>
          </>
        )}
      </dl>
      {a.state === 'open' &&
        onResolve &&
        (mine ? (
          <p className="hint">{t('ownAlert')}</p>
        ) : (
          <div className="actions">
            <button type="button" className={severity === 'high' ? 'danger' : 'primary'} onClick={onResolve} aria-label={t('resolve.label', { rule, user: a.user ?? '—' })}>
              {t('resolve.button')}
            </button>
          </div>
        ))}
    </article>
  );
}

type Facts = NonNullable<Alert['evidenceFacts']>;
type Translate = ReturnType<typeof useTranslation>['t'];

/** the detector's evidence in the reader's language; an alert raised before its facts were kept shows its English words */
function EvidenceText({ alert }: { alert: Alert }) {
  const { t } = useTranslation('alerts');
  const { t: ta } = useTranslation('audit');
  const f = alert.evidenceFacts;
  // the detector's words are English: marked so for a Swedish screen reader
  if (!f) return <span lang="en">{alert.evidence}</span>;
  const actions = ta('actions', { returnObjects: true }) as unknown as Record<string, string>;
  return <>{phrase(t, f, f.action ? (actions[f.action] ?? f.action) : '')}</>;
}

function phrase(t: Translate, f: Facts, action: string): string {
  const n = (unit: string, count: number | undefined) => t(`facts.${unit}`, { count: Math.round(count ?? 0) });
  const value = f.usual?.value;
  const usualDay = (unit: string, none: string) =>
    f.usual?.basis === 'own' ? t('facts.usualOwn', { value: n(unit, value) }) : f.usual?.basis === 'peers' ? t('facts.usualPeers', { value: n(unit, value) }) : t(none);
  const usualPeers = (key: string, unit: string) => (f.usual?.basis === 'peers' ? t(key, { value: n(unit, value) }) : t('facts.fixedDefault'));
  const today = t('facts.today', { calls: n('call', f.calls), persons: n('person', f.persons) });
  const limit = f.limit;
  switch (f.kind) {
    case 'volume-hour':
      return t('facts.volume-hour', { what: n('call', f.count), minutes: n('minute', f.minutes), today, usual: usualDay('call', 'facts.usualNone_volume'), limit });
    case 'volume-day':
      return t('facts.volume-day', { today, usual: usualDay('call', 'facts.usualNone_volume'), limit });
    case 'export-volume':
      return t('facts.export-volume', { what: n('call', f.count), usual: usualDay('export', 'facts.usualNone'), limit });
    case 'search-persons':
      return t('facts.search-persons', { what: n('person', f.count), limit });
    case 'search-unfollowed':
      return t('facts.search-unfollowed', { what: n('time', f.count) });
    case 'break-glass-starts':
      return t('facts.break-glass-starts', { what: n('time', f.count), usual: usualPeers('facts.usualPeersStarts', 'period'), limit });
    case 'break-glass-calls':
      return t('facts.break-glass-calls', { what: n('call', f.count), usual: usualPeers('facts.usualPeersCalls', 'call'), limit });
    default:
      return t(`facts.${f.kind}`, { action, workHours: f.workHours });
  }
}

function ResolveDialog({ alert: a, onClose, onResolved }: { alert: Alert; onClose: () => void; onResolved: (done: Alert) => void }) {
  const { t } = useTranslation('alerts');
  const { t: tc } = useTranslation();
  const id = useId();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const ready = outcome !== null && note.trim().length >= NOTE_MIN;
  const words = { rule: t(`rules.${a.rule as Rule}`, { defaultValue: a.rule }), user: a.user ?? '—' };

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    const { data, error: failure } = await api.POST('/api/v1/alerts/{id}/resolve', { params: { path: { id: a.id } }, body: { outcome, note: note.trim() } });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    onResolved(data);
  }

  return (
    <Modal title={t('resolve.dialog', words)} onClose={() => !busy && onClose()} closable={!busy}>
      <p>
        <EvidenceText alert={a} />
      </p>
      <form onSubmit={submit} aria-busy={busy}>
        <fieldset>
          <legend>{t('resolve.outcome')}</legend>
          {OUTCOMES.map((o) => (
            <label key={o} className="check">
              <input type="radio" name={`${id}-outcome`} value={o} checked={outcome === o} onChange={() => setOutcome(o)} required />
              {t(`outcomes.${o}`)}
            </label>
          ))}
        </fieldset>
        <label htmlFor={`${id}-note`}>{t('resolve.note')}</label>
        <textarea
          id={`${id}-note`}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          rows={3}
          minLength={NOTE_MIN}
          maxLength={2000}
          required
          className="wide-input"
          aria-describedby={`${id}-hint`}
        />
        <p id={`${id}-hint`} className="hint">
          {t('resolve.noteHint')}
        </p>
        <p className="status" aria-live="polite">
          {busy ? t('resolve.busy') : ''}
        </p>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy || !ready}>
            {t('resolve.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/* ------------------------------------------------------------------ thresholds */

/** a controller's thresholds, to read and to change (only what was changed is sent) */
function ThresholdsView({ known }: { known: string[] }) {
  const { t } = useTranslation('alerts');
  const { user } = useSession();
  const orgs = useNames();
  const id = useId();
  const [controller, setController] = useState(user.controllerId ?? '');
  // chosen by name: the user's own controller, those the alerts name, and every other known one (the server refuses those out of reach)
  const choices = [...new Set([user.controllerId, ...known, ...orgs.controllers.map((c) => c.id)].filter((c): c is string => Boolean(c)))];
  const [shown, setShown] = useState<{ controller: string; values: Thresholds } | null>(null);
  // what was typed or ticked, by name: a number as its text until it is saved
  const [edits, setEdits] = useState<Record<string, string | boolean>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState('');

  const load = useCallback(async (controllerId: string) => {
    if (!controllerId) return;
    setError(null);
    setStatus('');
    const { data, error: failure } = await api.GET('/api/v1/alert-settings/{controllerId}', { params: { path: { controllerId } } });
    if (!data) {
      setShown(null);
      return setError(errorOf(failure));
    }
    setShown({ controller: controllerId, values: byName(data) });
    setEdits({});
  }, []);

  function choose(e: FormEvent) {
    e.preventDefault();
    void load(controller.trim());
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!shown) return;
    const changes: Thresholds = {};
    for (const [k, v] of Object.entries(edits)) {
      const typed = typeof v === 'boolean' ? v : Number(v);
      if (typed !== shown.values[k]) changes[k] = typed;
    }
    if (Object.keys(changes).length === 0) return setStatus(t('thresholds.unchanged'));
    setBusy(true);
    setError(null);
    const { data, error: failure } = await api.PUT('/api/v1/alert-settings/{controllerId}', {
      params: { path: { controllerId: shown.controller } },
      body: changes as ThresholdChanges,
    });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    setShown({ controller: shown.controller, values: byName(data) });
    setEdits({});
    setStatus(t('thresholds.saved', { count: Object.keys(changes).length }));
  }

  const names = t('thresholds.names', { returnObjects: true }) as unknown as Record<string, string>;
  const value = (k: string) => edits[k] ?? shown?.values[k];
  return (
    <>
      <p className="hint">{t('thresholds.intro')}</p>
      <form className="filters" onSubmit={choose} aria-label={t('thresholds.pick')}>
        <div className="field">
          <label htmlFor={`${id}-controller`}>{t('thresholds.controller')}</label>
          <select id={`${id}-controller`} value={controller} onChange={(e) => setController(e.target.value)} required>
            {!controller && <option value="" />}
            {choices.map((c) => (
              <option key={c} value={c}>
                {orgs.controller(c)}
              </option>
            ))}
          </select>
        </div>
        <div className="actions">
          <button type="submit">{t('thresholds.load')}</button>
        </div>
      </form>
      <ErrorText error={error} />
      {shown && (
        <form className="thresholds" onSubmit={save} aria-label={t('thresholds.form', { controller: orgs.controller(shown.controller) })} aria-busy={busy}>
          {Object.keys(shown.values).map((k) => {
            const v = value(k);
            const label = names[k] ?? k;
            return typeof v === 'boolean' ? (
              <label key={k} className="check wide">
                <input type="checkbox" checked={v} onChange={(e) => setEdits({ ...edits, [k]: e.target.checked })} />
                {label}
              </label>
            ) : (
              <div key={k} className="field">
                <label htmlFor={`${id}-${k}`}>{label}</label>
                <input
                  id={`${id}-${k}`}
                  type="number"
                  min={0}
                  max={1_000_000}
                  step="any"
                  required
                  value={String(v ?? '')}
                  onChange={(e) => setEdits({ ...edits, [k]: e.target.value })}
                />
              </div>
            );
          })}
          <div className="actions wide">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? t('thresholds.busy') : t('thresholds.save')}
            </button>
          </div>
        </form>
      )}
      <p className="status" role="status" aria-live="polite">
        {status}
      </p>
    </>
  );
}
