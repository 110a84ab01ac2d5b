/**
 * Recordings in the user's scope, newest first. Time, region, agent and direction are in the
 * address (a reload or the back button keeps them; regions and agents by id, shown and typed by
 * their display names); a personnummer or caller number is searched through the blind index in a
 * POST body and kept only in this page's memory, never in the address, history or browser storage.
 * On a phone the table's rows become cards (styles.css), each cell with its column's name.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { clock, dateTime, dayStart } from '../../shared/format';
import { useNames, useSession } from '../../shared/session';
import { BreakGlassButton, useBreakGlass } from './BreakGlass';
import { ErrorText } from '../../shared/components/ErrorText';
import { Pager, useCursors } from '../../shared/components/Pager';

type Page = paths['/api/v1/recordings/search']['post']['responses'][200]['content']['application/json'];
export type Summary = Page['recordings'][number];
type IdentifierKind = '' | 'personnummer' | 'caller';

const PAGE_SIZE = 25;
/** the identifier searched for, kept while the user goes to a recording and back */
let remembered: { kind: IdentifierKind; value: string } = { kind: '', value: '' };

export function RecordingsPage() {
  const { t } = useTranslation('recordings');
  const { t: tc } = useTranslation();
  const { user, can } = useSession();
  const names = useNames();
  const breakGlass = useBreakGlass();
  const id = useId();
  const [params, setParams] = useSearchParams();
  const [kind, setKind] = useState<IdentifierKind>(remembered.kind);
  const [identifier, setIdentifier] = useState(remembered.value);
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (cursor: string | undefined) => {
      setBusy(true);
      setError(null);
      const body = {
        from: dayStart(params.get('from')),
        // the last day counts in full
        to: dayStart(params.get('to'), 1),
        region: params.get('region') || undefined,
        agent: params.get('agent') || undefined,
        direction: (params.get('direction') || undefined) as 'inbound' | 'outbound' | undefined,
        limit: PAGE_SIZE,
        cursor,
        ...(remembered.kind === 'personnummer' && remembered.value ? { personnummer: remembered.value } : {}),
        ...(remembered.kind === 'caller' && remembered.value ? { caller: remembered.value } : {}),
      };
      const { data, error: failure } = await api.POST('/api/v1/recordings/search', { body });
      setBusy(false);
      if (!data) {
        setPage(null);
        return setError(errorOf(failure));
      }
      setPage(data);
    },
    [params],
  );
  const pages = useCursors(load);
  const { first } = pages;
  // a break-the-glass period begun or ended changes what is in scope
  // biome-ignore lint/correctness/useExhaustiveDependencies: breakGlass?.id is the trigger, not a value read: the server answers differently once a period begins or ends
  useEffect(() => first(), [first, breakGlass?.id]);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    remembered = { kind, value: kind ? identifier.trim() : '' };
    const next = new URLSearchParams();
    for (const key of ['from', 'to', 'region', 'agent', 'direction']) {
      const typed = String(form.get(key) ?? '').trim();
      // a region or agent is typed by its name and searched by its id
      const v = key === 'region' ? names.regionId(typed) : key === 'agent' ? names.agentId(typed) : typed;
      if (v) next.set(key, v);
    }
    setParams(next);
    // the same filters again: load anyway, the identifier may have changed
    if (next.toString() === params.toString()) first();
  }

  function clear() {
    remembered = { kind: '', value: '' };
    setKind('');
    setIdentifier('');
    setParams(new URLSearchParams());
  }

  // the controllers the user works for, as far as the page knows; none known (processor staff
  // without a call on the page), every controller there is: the server refuses the others
  const known = [...new Set([user.controllerId, ...(page?.recordings ?? []).map((r) => r.controllerId)].filter((c): c is string => Boolean(c)))];
  const controllers = known.length ? known : names.controllers.map((c) => c.id);

  return (
    <>
      <div className="page-head">
        <h1>{t('heading')}</h1>
        {can('break-glass:start') && !breakGlass && <BreakGlassButton controllers={controllers} />}
      </div>
      <form className="filters" onSubmit={submit} aria-label={t('filters')} key={params.toString()}>
        <div className="field">
          <label htmlFor={`${id}-from`}>{t('from')}</label>
          <input id={`${id}-from`} name="from" type="date" defaultValue={params.get('from') ?? ''} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>{t('to')}</label>
          <input id={`${id}-to`} name="to" type="date" defaultValue={params.get('to') ?? ''} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-region`}>{t('region')}</label>
          <input id={`${id}-region`} name="region" list={`${id}-regions`} defaultValue={params.get('region') ? names.region(params.get('region')) : ''} autoComplete="off" />
          <datalist id={`${id}-regions`}>
            {names.regions.map((r) => (
              <option key={r.id} value={r.name} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-agent`}>{t('agent')}</label>
          <input id={`${id}-agent`} name="agent" list={`${id}-agents`} defaultValue={params.get('agent') ? names.agent(params.get('agent')) : ''} autoComplete="off" />
          <datalist id={`${id}-agents`}>
            {names.agents.map((a) => (
              <option key={a.id} value={a.name} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-dir`}>{t('direction')}</label>
          <select id={`${id}-dir`} name="direction" defaultValue={params.get('direction') ?? ''}>
            <option value="">{t('anyDirection')}</option>
            <option value="inbound">{t('inbound')}</option>
            <option value="outbound">{t('outbound')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-kind`}>{t('identifierKind')}</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as IdentifierKind)}>
            <option value="">{t('kindNone')}</option>
            <option value="personnummer">{t('kindPersonnummer')}</option>
            <option value="caller">{t('kindCaller')}</option>
          </select>
        </div>
        {kind && (
          <div className="field wide">
            <label htmlFor={`${id}-ident`}>{kind === 'personnummer' ? t('kindPersonnummer') : t('kindCaller')}</label>
            <input id={`${id}-ident`} value={identifier} onChange={(e) => setIdentifier(e.target.value)} autoComplete="off" aria-describedby={`${id}-ih`} />
            <p id={`${id}-ih`} className="hint">
              {t('identifierHint')}
            </p>
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary">
            {t('search')}
          </button>
          <button type="button" onClick={clear}>
            {t('clear')}
          </button>
        </div>
      </form>
      <ErrorText error={error} />
      <p className="status" aria-live="polite">
        {busy ? tc('loading') : page ? (page.recordings.length ? t('results', { count: page.recordings.length }) : t('empty')) : ''}
      </p>
      {page && page.recordings.length > 0 && <RecordingsTable recordings={page.recordings} />}
      {page && <Pager pages={pages} next={page.next} label={tc('page', { n: pages.pageNo })} />}
    </>
  );
}

function RecordingsTable({ recordings }: { recordings: Summary[] }) {
  const { t } = useTranslation('recordings');
  const names = useNames();
  const column = (key: (typeof COLUMNS)[number]) => t(`columns.${key}`);
  return (
    <table className="recordings cards">
      <thead>
        <tr>
          {COLUMNS.map((key) => (
            <th scope="col" key={key}>
              {column(key)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {recordings.map((r) => (
          <tr key={r.id} className={r.redaction === 'failed' ? 'flagged' : undefined}>
            <td data-label={column('started')}>
              <Link to={`/recordings/${r.id}`} aria-label={t('open', { when: dateTime(r.startedAt ?? r.importedAt) })}>
                {dateTime(r.startedAt ?? r.importedAt)}
              </Link>
            </td>
            <td data-label={column('duration')}>{clock(r.durationMs / 1000)}</td>
            <td data-label={column('direction')}>{r.direction ? t(r.direction === 'inbound' ? 'inbound' : 'outbound') : '—'}</td>
            <td data-label={column('region')}>{names.region(r.region)}</td>
            <td data-label={column('agent')}>{names.agent(r.agent)}</td>
            <td data-label={column('controller')}>{names.controller(r.controllerId)}</td>
            <td data-label={column('redaction')}>{r.redaction ? t(`redaction.${r.redaction as 'pending'}`) : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** the table's columns, in order */
const COLUMNS = ['started', 'duration', 'direction', 'region', 'agent', 'controller', 'redaction'] as const;
