/**
 * The auditor's page. First whether the log is intact (the whole tree recomputed and every signed
 * checkpoint checked), with the latest checkpoint and the verifier key to check it elsewhere.
 * Then the log itself, filtered (the filters are in the address: they name staff, actions and
 * recordings, never a patient), a patient's access log (the identifier only in memory and POST
 * bodies), the break-the-glass periods and the monthly log review (loggkontroll).
 */
import { useCallback, useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { dateTime, dayStart } from '../../shared/format';
import { AuditAction, AuditActor, AuditOutcome, AuditPurpose, shortId, type ActorView } from './AuditParts';
import { ErrorText, useErrorLine } from '../../shared/components/ErrorText';
import { Pager, useCursors } from '../../shared/components/Pager';
import { AuditBreakGlass } from './AuditBreakGlass';
import { AuditReview } from './AuditReview';
import { SubjectAccessLog } from '../privacy/SubjectAccessLog';
import { ALERTS_ANCHOR, AlertsBanner, AlertsSection } from '../alerts/Alerts';
import { useSession } from '../../shared/session';

type Verification = paths['/api/v1/audit/verify']['get']['responses'][200]['content']['application/json'];
type SearchQuery = NonNullable<paths['/api/v1/audit/search']['get']['parameters']['query']>;
type SearchPage = paths['/api/v1/audit/search']['get']['responses'][200]['content']['application/json'];
type Entry = SearchPage['entries'][number];

const PAGE_SIZE = 50;
/** the action filters offered; a name ending in a dot is every action under it */
const ACTIONS = [
  'recording.',
  'recording.play',
  'recording.access',
  'recording.view',
  'recording.export',
  'recordings.list',
  'auth.signin',
  'subject.',
  'break-glass.',
  'audit.',
  'user.',
  'token.',
  'contract.',
] as const;
const FILTERS = ['action', 'outcome', 'actor', 'recordingId', 'from', 'to'] as const;
/** a recording id as typed: a UUID, either case, spaces around it allowed */
const UUID_INPUT = '\\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\s*';
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** the filters as the address holds them: in a fixed order, empty ones left out */
function filterParams(values: Filters): URLSearchParams {
  const p = new URLSearchParams();
  for (const f of FILTERS) {
    const v = values[f]?.trim();
    if (v) p.set(f, v);
  }
  return p;
}

export function AuditPage() {
  const { t } = useTranslation('audit');
  const { t: tr } = useTranslation('review');
  const { t: ta } = useTranslation('alerts');
  const { can } = useSession();
  const [names, setNames] = useState<ReadonlyMap<string, ActorView>>(new Map());

  // who started and who reviewed each break-the-glass period: the period names only user ids,
  // the log's entries of those actions name the users
  useEffect(() => {
    const search = (action: string) => api.GET('/api/v1/audit/search', { params: { query: { action, outcome: 'success', limit: 200 } } });
    void Promise.all([search('break-glass.start'), search('break-glass.review')]).then((pages) => {
      const map = new Map<string, ActorView>();
      for (const { data } of pages) for (const e of data?.entries ?? []) if (e.event.actor.id) map.set(e.event.actor.id, e.event.actor);
      setNames(map);
    });
  }, []);

  return (
    <>
      <h1>{t('heading')}</h1>
      {can('alerts:read') && <AlertsBanner />}
      <section aria-labelledby="audit-verify">
        <VerificationSection />
      </section>
      {can('alerts:read') && (
        <section aria-labelledby="audit-alerts" id={ALERTS_ANCHOR}>
          <h2 id="audit-alerts">{ta('heading')}</h2>
          <AlertsSection />
        </section>
      )}
      <section aria-labelledby="audit-log">
        <h2 id="audit-log">{t('log.heading')}</h2>
        <LogSection />
      </section>
      <section aria-labelledby="audit-subject">
        <h2 id="audit-subject">{t('subject.heading')}</h2>
        <SubjectAccessLog />
      </section>
      <section aria-labelledby="audit-bg">
        <h2 id="audit-bg">{t('breakGlass.heading')}</h2>
        <AuditBreakGlass names={names} />
      </section>
      <section aria-labelledby="audit-review">
        <h2 id="audit-review">{tr('heading')}</h2>
        <AuditReview />
      </section>
    </>
  );
}

/* ------------------------------------------------------------------ verification */

interface Note {
  origin: string;
  size: string;
  rootHash: string;
  signatures: string[];
}

/** a C2SP signed note: origin, size and root hash lines, a blank line, then "— name signature" lines */
function parseCheckpoint(note: string): Note | null {
  const split = note.indexOf('\n\n');
  if (split < 0) return null;
  const [origin, size, rootHash] = note.slice(0, split).split('\n');
  if (!origin || !size || !/^\d+$/.test(size) || !rootHash) return null;
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .map((line) => /^\u2014 (\S+) /.exec(line)?.[1])
    .filter((name): name is string => Boolean(name));
  return { origin, size, rootHash, signatures };
}

function VerificationSection() {
  const { t } = useTranslation('audit');
  const errorLine = useErrorLine();
  const { t: tc } = useTranslation();
  const [result, setResult] = useState<Verification | null>(null);
  const [checkedAt, setCheckedAt] = useState<string | null>(null);
  const [busy, setBusy] = useState<'full' | 'since' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [noteError, setNoteError] = useState<ApiError | null>(null);
  const [key, setKey] = useState<string | null>(null);

  // the checkpoint first, then the verification: the verification then covers the checkpoint
  // shown and the entries after it, which reading the page added too, so the figures are of one
  // moment and add up. The page opens with the entries since the last verified checkpoint (time
  // grows with those alone); the whole log is one click away.
  const run = useCallback(async (full: boolean) => {
    setBusy(full ? 'full' : 'since');
    setError(null);
    const cp = await api.GET('/api/v1/audit/checkpoint', { parseAs: 'text' });
    if (typeof cp.data === 'string') {
      setNote(cp.data);
      setNoteError(null);
    } else {
      setNote(null);
      setNoteError(errorOf(cp.error));
    }
    const { data, error: failure } = await api.GET('/api/v1/audit/verify', { params: { query: full ? {} : { sinceCheckpoint: true } } });
    setBusy(null);
    if (!data) {
      setResult(null);
      setError(errorOf(failure));
    } else {
      setResult(data);
      setCheckedAt(new Date().toISOString());
    }
  }, []);

  useEffect(() => {
    void run(false);
  }, [run]);

  async function loadKey() {
    if (key !== null) return;
    const { data, error: failure } = await api.GET('/api/v1/audit/key', { parseAs: 'text' });
    if (typeof data === 'string') return setKey(data.trim());
    setKey(errorLine(errorOf(failure)));
  }

  const parsed = note ? parseCheckpoint(note) : null;
  const problems = result?.problems ?? [];
  const ok = Boolean(result?.ok) && problems.length === 0;
  // entries the verification recomputed beyond the checkpoint shown (null: it does not cover it)
  const signed = parsed ? Number(parsed.size) : null;
  const since = result && signed !== null && result.size >= signed ? result.size - signed : null;
  return (
    <>
      <div className="page-head">
        <h2 id="audit-verify">{t('verify.heading')}</h2>
        <button type="button" className="primary" onClick={() => void run(false)} disabled={busy !== null}>
          {t('verify.now')}
        </button>
        <button type="button" onClick={() => void run(true)} disabled={busy !== null}>
          {t('verify.full')}
        </button>
      </div>
      <ErrorText error={error} />
      <div aria-live="polite" aria-busy={busy !== null}>
        {busy ? (
          <p className="verify-result pending">{busy === 'full' ? t('verify.busy') : t('verify.busySince')}</p>
        ) : result ? (
          <div className={ok ? 'verify-result ok' : 'verify-result bad'}>
            <p className="verdict">
              <span aria-hidden="true">{ok ? '✔' : '✖'}</span> {ok ? t('verify.ok') : t('verify.failed')}
            </p>
            <p>
              {!ok
                ? t('verify.failedDetail', { count: problems.length, size: result.size ?? 0 })
                : result.since
                  ? t('verify.okDetailSince', {
                      checked: result.checked ?? 0,
                      from: result.from ?? 0,
                      since: result.since.size,
                      when: dateTime(result.since.verifiedAt),
                      size: result.size ?? 0,
                      checkpoints: result.checkpoints ?? 0,
                      witnessed: result.witnessed ?? 0,
                    })
                  : t('verify.okDetail', { size: result.size ?? 0, checkpoints: result.checkpoints ?? 0, witnessed: result.witnessed ?? 0 })}
            </p>
            {since !== null && <p data-testid="verify-covers">{t('verify.covers', { count: since, signed })}</p>}
            {result.since && <p className="hint">{t('verify.sinceLimit', { since: result.since.size })}</p>}
            <p className="hint">{result.lastFull ? t('verify.lastFull', { when: dateTime(result.lastFull.verifiedAt), size: result.lastFull.size }) : t('verify.neverFull')}</p>
            {/* a checkpoint signed meanwhile by another server leaves fewer unsigned than the one shown */}
            {(result.unsigned ?? 0) > 0 && result.unsigned !== since && <p className="hint">{t('verify.unsigned', { count: result.unsigned })}</p>}
            <p className="hint">
              {t('verify.rootHash')}: <code className="hash">{result.rootHash ?? '—'}</code> · {t('verify.checkedAt', { when: dateTime(checkedAt) })}
            </p>
          </div>
        ) : null}
      </div>
      {busy === null && problems.length > 0 && (
        <>
          <h3>{t('verify.problems')}</h3>
          <div className="table-scroll">
            <table className="problems">
              <thead>
                <tr>
                  <th scope="col">{t('verify.columns.code')}</th>
                  <th scope="col">{t('verify.columns.message')}</th>
                  <th scope="col">{t('verify.columns.index')}</th>
                  <th scope="col">{t('verify.columns.size')}</th>
                </tr>
              </thead>
              <tbody>
                {problems.map((p, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: one verification's problems, shown as they came and never reordered; none carries an id
                  <tr key={i} className="flagged">
                    <td>
                      <code>{p.code ?? '—'}</code>
                    </td>
                    <td>{p.message ?? '—'}</td>
                    <td>{p.index ?? '—'}</td>
                    <td>{p.size ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <h3>{t('checkpoint.heading')}</h3>
      <ErrorText error={noteError} />
      {note && (
        <>
          {parsed ? (
            <dl className="facts">
              <dt>{t('checkpoint.origin')}</dt>
              <dd>
                <code>{parsed.origin}</code>
              </dd>
              <dt>{t('checkpoint.size')}</dt>
              <dd>{parsed.size}</dd>
              {since !== null && (
                <>
                  <dt>{t('checkpoint.since')}</dt>
                  <dd>{t('checkpoint.sinceValue', { count: since })}</dd>
                </>
              )}
              <dt>{t('checkpoint.rootHash')}</dt>
              <dd>
                <code className="hash">{parsed.rootHash}</code>
              </dd>
              <dt>{t('checkpoint.signatures')}</dt>
              <dd>
                {parsed.signatures.length
                  ? parsed.signatures.map((s) => (
                      <code key={s} className="block">
                        {s}
                      </code>
                    ))
                  : '—'}
              </dd>
            </dl>
          ) : (
            <p className="error">{t('checkpoint.unreadable')}</p>
          )}
          <p className="hint">{t('checkpoint.noteHint')}</p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so that keyboard users can scroll it (WCAG 2.1.1) */}
          <section className="note" aria-label={t('checkpoint.note')} tabIndex={0}>
            <pre>{note}</pre>
          </section>
        </>
      )}
      <details className="key" onToggle={(e) => (e.currentTarget.open ? void loadKey() : undefined)}>
        <summary>{t('key.summary')}</summary>
        <p className="hint">{t('key.hint')}</p>
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so that keyboard users can scroll it (WCAG 2.1.1) */}
        <section className="note" aria-label={t('key.summary')} tabIndex={0}>
          <pre>{key ?? tc('loading')}</pre>
        </section>
      </details>
    </>
  );
}

/* ------------------------------------------------------------------ the log */

function LogSection() {
  const { t } = useTranslation('audit');
  const { t: tc } = useTranslation();
  const [params, setParams] = useSearchParams();
  const [page, setPage] = useState<SearchPage | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const filterKey = FILTERS.map((f) => `${f}=${params.get(f) ?? ''}`).join('&');

  const query = useMemo((): SearchQuery => {
    const p = new URLSearchParams(filterKey);
    const outcome = p.get('outcome');
    return {
      action: p.get('action') || undefined,
      outcome: outcome === 'success' || outcome === 'denied' || outcome === 'failure' ? outcome : undefined,
      actor: p.get('actor') || undefined,
      recordingId: p.get('recordingId') || undefined,
      from: dayStart(p.get('from')),
      // the last day counts in full
      to: dayStart(p.get('to'), 1),
      limit: PAGE_SIZE,
    };
  }, [filterKey]);

  const load = useCallback(
    async (before: number | undefined) => {
      setBusy(true);
      setError(null);
      const { data, error: failure } = await api.GET('/api/v1/audit/search', { params: { query: { ...query, ...(before === undefined ? {} : { before }) } } });
      setBusy(false);
      if (!data) {
        setPage(null);
        return setError(errorOf(failure));
      }
      setPage(data);
    },
    [query],
  );
  const pages = useCursors(load);
  const { first } = pages;
  useEffect(() => first(), [first]);

  function current(): Filters {
    return Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? '']));
  }

  function apply(values: Filters) {
    const next = filterParams(values);
    if (next.toString() === filterParams(current()).toString()) {
      // the same filters: show the newest entries again
      first();
    }
    setParams(next);
  }

  const entries = page?.entries ?? [];
  return (
    <>
      <LogFilters key={filterKey} params={params} onApply={apply} onClear={() => setParams(new URLSearchParams())} />
      <ErrorText error={error} />
      <p className="status" aria-live="polite">
        {busy ? tc('loading') : page ? (entries.length ? t('log.results', { count: entries.length }) : t('log.empty')) : ''}
      </p>
      {entries.length > 0 && (
        <div className="table-scroll">
          <table className="audit-table cards">
            <thead>
              <tr>
                <th scope="col">{t('log.columns.index')}</th>
                <th scope="col">{t('log.columns.time')}</th>
                <th scope="col">{t('log.columns.who')}</th>
                <th scope="col">{t('log.columns.action')}</th>
                <th scope="col">{t('log.columns.outcome')}</th>
                <th scope="col">{t('log.columns.recording')}</th>
                <th scope="col">{t('log.columns.purpose')}</th>
                <th scope="col">{t('log.columns.event')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <LogRow key={e.index} entry={e} onFilter={(f) => apply({ ...current(), ...f })} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page && <Pager pages={pages} next={page.next} label={t('log.pager')} busy={busy} previousText={`← ${t('log.newer')}`} nextText={`${t('log.older')} →`} />}
    </>
  );
}

function LogRow({ entry, onFilter }: { entry: Entry; onFilter: (f: { recordingId?: string; actor?: string }) => void }) {
  const { t } = useTranslation('audit');
  const e = entry.event;
  const bad = e.outcome !== 'success';
  const actorKey = e.actor.id ?? e.actor.name;
  return (
    <tr className={e.breakGlassId ? 'break-glass-row' : bad ? 'flagged' : undefined}>
      <td className="num" data-label={t('log.columns.index')}>
        {entry.index}
      </td>
      <td className="nowrap" data-label={t('log.columns.time')}>
        {dateTime(e.time)}
      </td>
      <td data-label={t('log.columns.who')}>
        {actorKey ? (
          <button type="button" className="link" onClick={() => onFilter({ actor: actorKey })} aria-label={t('log.filterActor', { name: e.actor.name ?? actorKey })}>
            <AuditActor actor={e.actor} />
          </button>
        ) : (
          <AuditActor actor={e.actor} />
        )}
      </td>
      <td data-label={t('log.columns.action')}>
        <AuditAction action={e.action} />
      </td>
      <td data-label={t('log.columns.outcome')}>
        <AuditOutcome outcome={e.outcome} action={e.action} reason={e.detail?.reason} />
      </td>
      <td data-label={t('log.columns.recording')}>
        {e.recordingId ? (
          <button
            type="button"
            className="link"
            onClick={() => onFilter({ recordingId: e.recordingId })}
            title={e.recordingId}
            aria-label={t('log.filterRecording', { id: e.recordingId })}
          >
            <code>{shortId(e.recordingId)}</code>
          </button>
        ) : (
          '—'
        )}
      </td>
      <td data-label={t('log.columns.purpose')}>
        <AuditPurpose purpose={e.purpose} text={e.purposeText} breakGlass={e.breakGlassId} />
      </td>
      <td data-label={t('log.columns.event')}>
        <details className="entry">
          <summary>
            {t('log.showEvent')}
            <span className="visually-hidden"> {entry.index}</span>
          </summary>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so that keyboard users can scroll it (WCAG 2.1.1) */}
          <section className="event" aria-label={t('log.eventOf', { index: entry.index })} tabIndex={0}>
            <pre>
              {JSON.stringify(e, null, 2)}
              {`\nleafHash: ${entry.leafHash}`}
            </pre>
          </section>
        </details>
      </td>
    </tr>
  );
}

function LogFilters({ params, onApply, onClear }: { params: URLSearchParams; onApply: (v: Filters) => void; onClear: () => void }) {
  const { t } = useTranslation('audit');
  const id = useId();
  const initialAction = params.get('action') ?? '';
  const [choice, setChoice] = useState<string>(initialAction === '' || (ACTIONS as readonly string[]).includes(initialAction) ? initialAction : 'other');
  const [actionText, setActionText] = useState(choice === 'other' ? initialAction : '');
  const names = t('actions', { returnObjects: true }) as unknown as Record<string, string>;

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const get = (k: string) => String(form.get(k) ?? '').trim();
    onApply({
      action: choice === 'other' ? actionText.trim() : choice,
      outcome: get('outcome'),
      actor: get('actor'),
      recordingId: get('recordingId').toLowerCase(),
      from: get('from'),
      to: get('to'),
    });
  }

  return (
    <form className="filters" onSubmit={submit} aria-label={t('log.filters')}>
      <div className="field">
        <label htmlFor={`${id}-action`}>{t('log.action')}</label>
        <select id={`${id}-action`} value={choice} onChange={(e) => setChoice(e.target.value)}>
          <option value="">{t('log.anyAction')}</option>
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a.endsWith('.') ? `${a}* — ${t('log.prefix', { prefix: a })}` : `${a} — ${names[a] ?? a}`}
            </option>
          ))}
          <option value="other">{t('log.otherAction')}</option>
        </select>
      </div>
      {choice === 'other' && (
        <div className="field">
          <label htmlFor={`${id}-atext`}>{t('log.actionText')}</label>
          <input
            id={`${id}-atext`}
            value={actionText}
            onChange={(e) => setActionText(e.target.value)}
            pattern="[a-z][a-z0-9\-]*(\.[a-z0-9\-]+)*\.?"
            maxLength={100}
            spellCheck={false}
            aria-describedby={`${id}-ath`}
            // biome-ignore lint/a11y/noAutofocus: the field appears because the user just chose “other action” in the list above; focus follows that choice
            autoFocus={!initialAction}
          />
          <p id={`${id}-ath`} className="hint">
            {t('log.actionTextHint')}
          </p>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-outcome`}>{t('log.outcome')}</label>
        <select id={`${id}-outcome`} name="outcome" defaultValue={params.get('outcome') ?? ''}>
          <option value="">{t('log.anyOutcome')}</option>
          <option value="success">{t('outcomes.success')}</option>
          <option value="denied">{t('outcomes.denied')}</option>
          <option value="failure">{t('outcomes.failure')}</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-actor`}>{t('log.actor')}</label>
        <input id={`${id}-actor`} name="actor" defaultValue={params.get('actor') ?? ''} maxLength={200} spellCheck={false} aria-describedby={`${id}-acth`} />
        <p id={`${id}-acth`} className="hint">
          {t('log.actorHint')}
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-rec`}>{t('log.recordingId')}</label>
        <input id={`${id}-rec`} name="recordingId" defaultValue={params.get('recordingId') ?? ''} pattern={UUID_INPUT} spellCheck={false} size={38} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-from`}>{t('log.from')}</label>
        <input id={`${id}-from`} name="from" type="date" defaultValue={params.get('from') ?? ''} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>{t('log.to')}</label>
        <input id={`${id}-to`} name="to" type="date" defaultValue={params.get('to') ?? ''} />
      </div>
      <div className="actions">
        <button type="submit" className="primary">
          {t('log.search')}
        </button>
        <button type="button" onClick={onClear}>
          {t('log.clear')}
        </button>
      </div>
    </form>
  );
}
