/**
 * Machine tokens: the credentials a recorder or telephony platform pushes recordings with. A token
 * is bound to one controller and one scope (ingest: it can write, never read back), and may be
 * limited to regions and agents of that controller; its value is shown once, when it is made.
 * Revoking ends it at once.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { dateTime } from '../../shared/format';
import {
  ConfirmDialog,
  orgLabel,
  OrgOptions,
  SecretDialog,
  soleId,
  TOKEN_SCOPES,
  useAnnounce,
  useFailure,
  useOrganisations,
  withId,
  type NewToken,
  type Token,
} from './AdminShared';
import { useNames } from '../../shared/session';
import { ErrorText } from '../../shared/components/ErrorText';
import { Modal } from '../../shared/components/Modal';

const MAX_DAYS = 366;

/** a comma-separated field as the list the API takes */
function names(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

export function AdminTokens({ headingId }: { headingId: string }) {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const orgs = useOrganisations();
  const regionNames = useNames();
  const announce = useAnnounce();
  const failure = useFailure();
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [shown, setShown] = useState<{ name: string; token: string; expiresAt?: string } | null>(null);

  const load = useCallback(async () => {
    const { data, error: failed } = await api.GET('/api/v1/tokens');
    if (!data) return setError(failure(failed));
    setError(null);
    setTokens([...(data.tokens ?? [])].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '')));
  }, [failure]);
  useEffect(() => void load(), [load]);

  async function revoke(token: Token): Promise<string | null> {
    const { response, error: failed } = await api.DELETE('/api/v1/tokens/{id}', { params: { path: { id: token.id! } } });
    if (!response.ok) return failure(failed);
    setRevoking(null);
    announce(t('tokens.revoked', { name: token.name }));
    await load();
    return null;
  }

  const now = new Date().toISOString();
  return (
    <>
      <div className="page-head">
        <h2 id={headingId}>{t('tokens.heading')}</h2>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t('tokens.create')}
        </button>
      </div>
      <p className="hint">{t('tokens.intro')}</p>
      <ErrorText error={error} />
      {tokens === null && !error && <p className="status">{tc('loading')}</p>}
      {tokens && tokens.length === 0 && <p>{t('tokens.empty')}</p>}
      {tokens && tokens.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so that keyboard users can scroll it (WCAG 2.1.1)
        <section className="admin-scroll" aria-labelledby={headingId} tabIndex={0}>
          <table className="admin-table">
            <caption className="admin-sr">{t('tokens.caption', { count: tokens.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('tokens.name')}</th>
                <th scope="col">{t('tokens.scope')}</th>
                <th scope="col">{t('tokens.controller')}</th>
                <th scope="col">{t('tokens.regions')}</th>
                <th scope="col">{t('tokens.agents')}</th>
                <th scope="col">{t('tokens.created')}</th>
                <th scope="col">{t('tokens.expires')}</th>
                <th scope="col">{t('tokens.lastUsed')}</th>
                <th scope="col">{t('tokens.status')}</th>
                <th scope="col">{t('tokens.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((k) => {
                const expired = Boolean(k.expiresAt && k.expiresAt <= now);
                const live = !k.revokedAt && !expired;
                return (
                  <tr key={k.id} className={live ? undefined : 'admin-muted'}>
                    <th scope="row">{k.name}</th>
                    <td>{k.scope ? t(`tokens.scopes.${k.scope}`, { defaultValue: k.scope }) : '—'}</td>
                    <td>{orgLabel(orgs.controllers, k.controllerId)}</td>
                    <td>{k.regions?.length ? k.regions.map((r) => withId(regionNames.region(r), r)).join(', ') : t('tokens.all')}</td>
                    <td>{k.agents?.length ? k.agents.map((a) => withId(regionNames.agent(a), a)).join(', ') : t('tokens.all')}</td>
                    <td>{dateTime(k.createdAt)}</td>
                    <td>{dateTime(k.expiresAt)}</td>
                    <td>{k.lastUsedAt ? dateTime(k.lastUsedAt) : t('tokens.never')}</td>
                    <td>
                      {k.revokedAt ? <strong>{t('tokens.stateRevoked', { when: dateTime(k.revokedAt) })}</strong> : expired ? t('tokens.stateExpired') : t('tokens.stateActive')}
                    </td>
                    <td>
                      {live ? (
                        <button type="button" onClick={() => setRevoking(k)} aria-label={t('tokens.revokeFor', { name: k.name })}>
                          {t('tokens.revoke')}
                        </button>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
      {creating && (
        <CreateTokenDialog
          onClose={() => setCreating(false)}
          onCreated={(name, token, expiresAt) => {
            setCreating(false);
            setShown({ name, token, expiresAt });
            announce(t('tokens.made', { name }));
            void load();
          }}
        />
      )}
      {revoking && (
        <ConfirmDialog
          title={t('tokens.confirmHeading', { name: revoking.name })}
          confirm={t('tokens.confirm')}
          onConfirm={() => revoke(revoking)}
          onClose={() => setRevoking(null)}
        >
          <p>{t('tokens.confirmText')}</p>
        </ConfirmDialog>
      )}
      {shown && (
        <SecretDialog
          title={t('tokens.shownHeading', { name: shown.name })}
          once={t('secret.onceToken')}
          intro={t('tokens.shownIntro', { expires: dateTime(shown.expiresAt) })}
          fields={[{ label: t('tokens.token'), value: shown.token }]}
          onClose={() => setShown(null)}
        />
      )}
    </>
  );
}

function CreateTokenDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (name: string, token: string, expiresAt?: string) => void }) {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const orgs = useOrganisations();
  const failure = useFailure();
  const id = useId();
  const [name, setName] = useState('');
  const [scope, setScope] = useState<NewToken['scope']>('ingest');
  const [controllerId, setControllerId] = useState(soleId(orgs.controllers));
  const [days, setDays] = useState('90');
  const [regions, setRegions] = useState('');
  const [agents, setAgents] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const [regionList, agentList] = [names(regions), names(agents)];
    const body: NewToken = {
      name: name.trim(),
      scope,
      controllerId,
      days: Number(days),
      ...(regionList.length ? { regions: regionList } : {}),
      ...(agentList.length ? { agents: agentList } : {}),
    };
    const { data, error: failed } = await api.POST('/api/v1/tokens', { body });
    setBusy(false);
    if (!data?.token) return setError(failure(failed));
    onCreated(name.trim(), data.token, data.expiresAt);
  }

  return (
    <Modal title={t('tokens.createHeading')} onClose={onClose}>
      <form onSubmit={submit} className="admin-form">
        <label htmlFor={`${id}-n`}>{t('tokens.name')}</label>
        <input id={`${id}-n`} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} autoComplete="off" aria-describedby={`${id}-nh`} />
        <p id={`${id}-nh`} className="hint">
          {t('tokens.nameHint')}
        </p>
        <label htmlFor={`${id}-s`}>{t('tokens.scope')}</label>
        <select id={`${id}-s`} value={scope} onChange={(e) => setScope(e.target.value as NewToken['scope'])} aria-describedby={`${id}-sh`}>
          {TOKEN_SCOPES.map((s) => (
            <option key={s} value={s}>
              {t(`tokens.scopes.${s}`)}
            </option>
          ))}
        </select>
        <p id={`${id}-sh`} className="hint">
          {t('tokens.scopeHint')}
        </p>
        <label htmlFor={`${id}-c`}>{t('tokens.controller')}</label>
        <select id={`${id}-c`} value={controllerId} onChange={(e) => setControllerId(e.target.value)} required>
          <OrgOptions list={orgs.controllers} />
        </select>
        <label htmlFor={`${id}-d`}>{t('tokens.days')}</label>
        <input
          id={`${id}-d`}
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_DAYS}
          step={1}
          value={days}
          onChange={(e) => setDays(e.target.value)}
          required
          aria-describedby={`${id}-dh`}
        />
        <p id={`${id}-dh`} className="hint">
          {t('tokens.daysHint', { max: MAX_DAYS })}
        </p>
        <label htmlFor={`${id}-r`}>
          {t('tokens.regions')} <span className="hint">({t('optional')})</span>
        </label>
        <input id={`${id}-r`} value={regions} onChange={(e) => setRegions(e.target.value)} autoComplete="off" aria-describedby={`${id}-rh`} />
        <p id={`${id}-rh`} className="hint">
          {t('tokens.regionsHint')}
        </p>
        <label htmlFor={`${id}-a`}>
          {t('tokens.agents')} <span className="hint">({t('optional')})</span>
        </label>
        <input id={`${id}-a`} value={agents} onChange={(e) => setAgents(e.target.value)} autoComplete="off" aria-describedby={`${id}-ah`} />
        <p id={`${id}-ah`} className="hint">
          {t('tokens.agentsHint')}
        </p>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {tc('cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            {t('tokens.createSubmit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
