/**
 * Administration, for the platform administrator: accounts, machine tokens, tenancy (controllers,
 * processors, contracts) and the status of the controllers' keys. The administrator manages who
 * may do what but never reaches a recording: nothing on this page links to a call or plays audio,
 * and the server refuses the admin role every recording route in any case.
 *
 * The four sections are tabs (shared/components/Tabs.tsx); the open one is in the address, so a
 * reload or a shared link opens the same section.
 */
import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { AnnounceContext, OrganisationsContext, useFailure, type Organisation, type Organisations } from './AdminShared';
import { ErrorText } from '../../shared/components/ErrorText';
import { Tabs, useSection } from '../../shared/components/Tabs';
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
  const [section, openSection] = useSection(SECTIONS);
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

  function open(next: Section) {
    setStatus('');
    openSection(next);
  }

  const headingId = `${id}-h`;
  return (
    <OrganisationsContext.Provider value={orgs}>
      <AnnounceContext.Provider value={setStatus}>
        <h1>{t('heading')}</h1>
        <p className="hint">{t('intro')}</p>
        <Tabs sections={SECTIONS} current={section} label={t('sections')} labelOf={(s) => t(`tabs.${s}`)} onOpen={open}>
          <p className="status admin-status" role="status" aria-live="polite">
            {status}
          </p>
          <ErrorText error={orgError} />
          {section === 'users' && <AdminUsers headingId={headingId} />}
          {section === 'tokens' && <AdminTokens headingId={headingId} />}
          {section === 'tenancy' && <AdminTenancy headingId={headingId} />}
          {section === 'keys' && <AdminKeys headingId={headingId} />}
        </Tabs>
      </AnnounceContext.Provider>
    </OrganisationsContext.Provider>
  );
}
