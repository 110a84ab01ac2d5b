/**
 * Administration, for the platform administrator: accounts, machine tokens, tenancy (controllers,
 * processors, contracts) and the status of the controllers' keys. The administrator manages who
 * may do what but never reaches a recording: nothing on this page links to a call or plays audio,
 * and the server refuses the admin role every recording route in any case.
 *
 * The four sections are tabs (arrow keys, Home and End move between them); the open one is in
 * the address, so a reload or a shared link opens the same section.
 */
import { useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useSearchParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { AnnounceContext, OrganisationsContext, useFailure, type Organisation, type Organisations } from './AdminShared';
import { ErrorText } from '../../shared/components/ErrorText';
import { AdminUsers } from './AdminUsers';
import { AdminTokens } from './AdminTokens';
import { AdminTenancy } from './AdminTenancy';
import { AdminKeys } from './AdminKeys';

const SECTIONS = ['users', 'tokens', 'tenancy', 'keys'] as const;
type Section = (typeof SECTIONS)[number];

export function AdminPage() {
  const { t } = useTranslation('admin');
  const failure = useFailure();
  const id = useId();
  const [params, setParams] = useSearchParams();
  const asked = params.get('section');
  const section: Section = (SECTIONS as readonly string[]).includes(asked ?? '') ? (asked as Section) : 'users';
  const tabs = useRef<Record<string, HTMLButtonElement | null>>({});
  const [controllers, setControllers] = useState<Organisation[]>([]);
  const [processors, setProcessors] = useState<Organisation[]>([]);
  const [orgError, setOrgError] = useState<string | null>(null);
  const [status, setStatus] = useState('');

  const reload = useCallback(async () => {
    const [c, p] = await Promise.all([api.GET('/api/v1/controllers'), api.GET('/api/v1/processors')]);
    if (!c.data) return setOrgError(failure(c.error));
    if (!p.data) return setOrgError(failure(p.error));
    setOrgError(null);
    const byId = (a: Organisation, b: Organisation) => (a.id ?? '').localeCompare(b.id ?? '');
    setControllers([...(c.data.controllers ?? [])].sort(byId));
    setProcessors([...(p.data.processors ?? [])].sort(byId));
  }, [failure]);
  useEffect(() => void reload(), [reload]);

  const orgs = useMemo<Organisations>(() => ({ controllers, processors, reload }), [controllers, processors, reload]);

  function open(next: Section, focus = false) {
    setStatus('');
    setParams(next === 'users' ? {} : { section: next }, { replace: true });
    if (focus) tabs.current[next]?.focus();
  }

  function onKey(e: KeyboardEvent<HTMLButtonElement>) {
    const at = SECTIONS.indexOf(section);
    const to =
      e.key === 'ArrowRight'
        ? (at + 1) % SECTIONS.length
        : e.key === 'ArrowLeft'
          ? (at - 1 + SECTIONS.length) % SECTIONS.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? SECTIONS.length - 1
              : -1;
    if (to < 0) return;
    e.preventDefault();
    open(SECTIONS[to]!, true);
  }

  const headingId = `${id}-h`;
  return (
    <OrganisationsContext.Provider value={orgs}>
      <AnnounceContext.Provider value={setStatus}>
        <h1>{t('heading')}</h1>
        <p className="hint">{t('intro')}</p>
        <div role="tablist" aria-label={t('sections')} className="admin-tabs">
          {SECTIONS.map((s) => (
            <button
              key={s}
              ref={(el) => {
                tabs.current[s] = el;
              }}
              type="button"
              role="tab"
              id={`${id}-tab-${s}`}
              aria-selected={s === section}
              aria-controls={`${id}-panel`}
              tabIndex={s === section ? 0 : -1}
              onClick={() => open(s)}
              onKeyDown={onKey}
            >
              {t(`tabs.${s}`)}
            </button>
          ))}
        </div>
        <p className="status admin-status" role="status" aria-live="polite">
          {status}
        </p>
        <ErrorText error={orgError} />
        <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${section}`} className="admin-panel" tabIndex={-1}>
          {section === 'users' && <AdminUsers headingId={headingId} />}
          {section === 'tokens' && <AdminTokens headingId={headingId} />}
          {section === 'tenancy' && <AdminTenancy headingId={headingId} />}
          {section === 'keys' && <AdminKeys headingId={headingId} />}
        </div>
      </AnnounceContext.Provider>
    </OrganisationsContext.Provider>
  );
}
