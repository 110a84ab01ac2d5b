/**
 * Accounts: who they are, where they belong, whether they can sign in, and whether they wait for
 * approval. An administrator creates them (a single-use enrolment code is shown once), resets a
 * lost sign-in, disables an account or lets it in again. Disabling and resetting end the account's
 * sessions, so both ask first. Creating, resetting or enabling an account that can reach recordings
 * leaves it waiting for the controller's privacy officer (docs/access.md, "Approval").
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { useNames, useSession } from '../../shared/session';
import { requestOf } from '../../shared/approval';
import {
  ConfirmDialog,
  CredentialsDialog,
  orgLabel,
  OrgOptions,
  soleId,
  useAnnounce,
  useFailure,
  useOrganisations,
  USER_ROLES,
  withId,
  type AdminUser,
  type Credentials,
  type NewUser,
} from './AdminShared';
import { ErrorText } from '../../shared/components/ErrorText';
import { Modal } from '../../shared/components/Modal';

type Pending = { kind: 'reset' | 'disable'; user: AdminUser } | null;

export function AdminUsers({ headingId }: { headingId: string }) {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const { user: me } = useSession();
  const names = useNames();
  const orgs = useOrganisations();
  const announce = useAnnounce();
  const failure = useFailure();
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const [shown, setShown] = useState<{ credentials: Credentials; reset: boolean } | null>(null);

  const load = useCallback(async () => {
    const { data, error: failed } = await api.GET('/api/v1/users');
    if (!data) return setError(failure(failed));
    setError(null);
    setUsers([...(data.users ?? [])].sort((a, b) => (a.username ?? '').localeCompare(b.username ?? '')));
  }, [failure]);
  useEffect(() => void load(), [load]);

  async function enable(u: AdminUser) {
    const { data, error: failed } = await api.POST('/api/v1/users/{id}/enable', { params: { path: { id: u.id! } } });
    if (!data) return setError(failure(failed));
    const done = u.disabled || !u.locked ? t('users.enabled', { username: u.username }) : t('users.unlocked', { username: u.username });
    announce(data.approval === 'pending' ? t('users.waits', { done }) : done);
    await load();
  }

  async function confirmed(p: NonNullable<Pending>): Promise<string | null> {
    const id = p.user.id!;
    if (p.kind === 'disable') {
      const { data, error: failed } = await api.POST('/api/v1/users/{id}/disable', { params: { path: { id } } });
      if (!data) return failure(failed);
      announce(t('users.disabled', { username: p.user.username }));
    } else {
      const { data, error: failed } = await api.POST('/api/v1/users/{id}/reset', { params: { path: { id } } });
      if (!data) return failure(failed);
      setShown({ credentials: data, reset: true });
      announce(t('users.wasReset', { username: p.user.username }));
    }
    setPending(null);
    await load();
    return null;
  }

  return (
    <>
      <div className="page-head">
        <h2 id={headingId}>{t('users.heading')}</h2>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t('users.create')}
        </button>
      </div>
      <ErrorText error={error} />
      {users === null && !error && <p className="status">{tc('loading')}</p>}
      {users && users.length === 0 && <p>{t('users.empty')}</p>}
      {users && users.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so that keyboard users can scroll it (WCAG 2.1.1)
        <section className="admin-scroll" aria-labelledby={headingId} tabIndex={0}>
          <table className="admin-table">
            <caption className="admin-sr">{t('users.caption', { count: users.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('users.username')}</th>
                <th scope="col">{t('users.role')}</th>
                <th scope="col">{t('users.organisation')}</th>
                <th scope="col">{t('users.agent')}</th>
                <th scope="col">{t('users.team')}</th>
                <th scope="col">{t('users.totp')}</th>
                <th scope="col">{t('users.status')}</th>
                <th scope="col">{t('users.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => {
                const self = u.id === me.id;
                return (
                  <tr key={u.id} className={u.disabled ? 'admin-muted' : u.locked ? 'flagged' : undefined}>
                    <th scope="row">
                      {u.username}
                      {self && <span className="hint"> ({t('users.you')})</span>}
                      {u.oidcIssuer && <div className="hint">{t('users.oidc', { issuer: hostOf(u.oidcIssuer) })}</div>}
                    </th>
                    <td>{u.role ? tc(`roles.${u.role}`) : '—'}</td>
                    <td>
                      {u.controllerId ? (
                        <>
                          <span className="admin-tag" title={t('users.controller')}>
                            {t('users.controllerTag')}
                          </span>{' '}
                          {orgLabel(orgs.controllers, u.controllerId)}
                        </>
                      ) : u.processorId ? (
                        <>
                          <span className="admin-tag" title={t('users.processor')}>
                            {t('users.processorTag')}
                          </span>{' '}
                          {orgLabel(orgs.processors, u.processorId)}
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>{u.agent ? withId(names.agent(u.agent), u.agent) : '—'}</td>
                    <td>{u.team ?? '—'}</td>
                    <td>{u.oidcIssuer ? t('users.notApplicable') : u.totpEnrolled ? tc('yes') : tc('no')}</td>
                    <td>
                      <UserState user={u} />
                    </td>
                    <td>
                      {self ? (
                        '—'
                      ) : (
                        <div className="admin-row-actions">
                          {!u.oidcIssuer && (
                            <button type="button" onClick={() => setPending({ kind: 'reset', user: u })} aria-label={t('users.resetFor', { username: u.username })}>
                              {t('users.reset')}
                            </button>
                          )}
                          {u.disabled || u.locked ? (
                            <button
                              type="button"
                              onClick={() => void enable(u)}
                              aria-label={u.disabled ? t('users.enableFor', { username: u.username }) : t('users.unlockFor', { username: u.username })}
                            >
                              {u.disabled ? t('users.enable') : t('users.unlock')}
                            </button>
                          ) : u.approval === 'refused' && u.oidcIssuer ? (
                            // a password account is asked for again by a reset: its enrolment code went with the refusal
                            <button type="button" onClick={() => void enable(u)} aria-label={t('users.askAgainFor', { username: u.username })}>
                              {t('users.askAgain')}
                            </button>
                          ) : null}
                          {!u.disabled && (
                            <button type="button" onClick={() => setPending({ kind: 'disable', user: u })} aria-label={t('users.disableFor', { username: u.username })}>
                              {t('users.disable')}
                            </button>
                          )}
                        </div>
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
        <CreateUserDialog
          onClose={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            setShown({ credentials: c, reset: false });
            announce(t('users.created', { username: c.username }));
            void load();
          }}
        />
      )}
      {pending && (
        <ConfirmDialog
          title={
            pending.kind === 'reset' ? t('users.confirmResetHeading', { username: pending.user.username }) : t('users.confirmDisableHeading', { username: pending.user.username })
          }
          confirm={pending.kind === 'reset' ? t('users.confirmReset') : t('users.confirmDisable')}
          onConfirm={() => confirmed(pending)}
          onClose={() => setPending(null)}
        >
          <p>{pending.kind === 'reset' ? t('users.confirmResetText') : t('users.confirmDisableText')}</p>
        </ConfirmDialog>
      )}
      {shown && <CredentialsDialog credentials={shown.credentials} reset={shown.reset} onClose={() => setShown(null)} />}
    </>
  );
}

/** disabled, locked, waiting for approval or refused (each that holds), else active */
function UserState({ user: u }: { user: AdminUser }) {
  const { t } = useTranslation('admin');
  const parts: string[] = [];
  if (u.disabled) parts.push(t('users.stateDisabled'));
  if (u.approval === 'pending') parts.push(t('users.statePending', { request: t(`users.requests.${requestOf(u.approvalRequest)}`) }));
  if (u.approval === 'refused') parts.push(t('users.stateRefused'));
  if (u.locked) parts.push(t('users.stateLocked'));
  if (parts.length === 0) return <>{t('users.stateActive')}</>;
  return (
    <>
      {parts.map((p) => (
        <div key={p}>
          <strong>{p}</strong>
        </div>
      ))}
    </>
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

type Belongs = 'none' | 'controller' | 'processor';

function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (c: Credentials) => void }) {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const orgs = useOrganisations();
  const failure = useFailure();
  const id = useId();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<NewUser['role']>('nurse');
  const [belongs, setBelongs] = useState<Belongs>(orgs.processors.length ? 'processor' : orgs.controllers.length ? 'controller' : 'none');
  const [org, setOrg] = useState('');
  const [agent, setAgent] = useState('');
  const [team, setTeam] = useState('');
  const [oidc, setOidc] = useState(false);
  const [issuer, setIssuer] = useState('');
  const [subject, setSubject] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const choices = belongs === 'controller' ? orgs.controllers : belongs === 'processor' ? orgs.processors : [];
  // the only one there is is the one meant
  const chosen = org || soleId(choices);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: NewUser = {
      username: username.trim(),
      role,
      ...(belongs === 'controller' && chosen ? { controllerId: chosen } : {}),
      ...(belongs === 'processor' && chosen ? { processorId: chosen } : {}),
      ...(agent.trim() ? { agent: agent.trim() } : {}),
      ...(team.trim() ? { team: team.trim() } : {}),
      ...(oidc ? { oidcIssuer: issuer.trim(), oidcSubject: subject.trim() } : {}),
    };
    const { data, error: failed } = await api.POST('/api/v1/users', { body });
    setBusy(false);
    if (!data) return setError(failure(failed));
    onCreated(data);
  }

  return (
    <Modal title={t('users.createHeading')} onClose={onClose}>
      <form onSubmit={submit} className="admin-form">
        <label htmlFor={`${id}-u`}>{t('users.username')}</label>
        <input
          id={`${id}-u`}
          value={username}
          onChange={(e) => setUsername(e.target.value.toLowerCase())}
          required
          minLength={2}
          maxLength={64}
          pattern="[a-z0-9._@\-]{2,64}"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-uh`}
        />
        <p id={`${id}-uh`} className="hint">
          {t('users.usernameHint')}
        </p>
        <label htmlFor={`${id}-r`}>{t('users.role')}</label>
        <select id={`${id}-r`} value={role} onChange={(e) => setRole(e.target.value as NewUser['role'])}>
          {USER_ROLES.map((r) => (
            <option key={r} value={r}>
              {tc(`roles.${r}`)}
            </option>
          ))}
        </select>
        <fieldset>
          <legend>{t('users.organisation')}</legend>
          {(['processor', 'controller', 'none'] as const).map((b) => (
            <label key={b} className="check">
              <input
                type="radio"
                name={`${id}-b`}
                value={b}
                checked={belongs === b}
                onChange={() => {
                  setBelongs(b);
                  setOrg('');
                }}
              />{' '}
              {t(`users.belongs.${b}`)}
            </label>
          ))}
          {belongs !== 'none' && (
            <>
              <label htmlFor={`${id}-o`}>{belongs === 'controller' ? t('users.controller') : t('users.processor')}</label>
              <select id={`${id}-o`} value={chosen} onChange={(e) => setOrg(e.target.value)} required>
                <OrgOptions list={choices} />
              </select>
              {choices.length === 0 && <p className="hint">{belongs === 'controller' ? t('users.noControllers') : t('users.noProcessors')}</p>}
            </>
          )}
        </fieldset>
        <label htmlFor={`${id}-a`}>
          {t('users.agent')} <span className="hint">({t('optional')})</span>
        </label>
        <input id={`${id}-a`} value={agent} onChange={(e) => setAgent(e.target.value)} maxLength={100} aria-describedby={`${id}-ah`} autoComplete="off" />
        <p id={`${id}-ah`} className="hint">
          {t('users.agentHint')}
        </p>
        <label htmlFor={`${id}-t`}>
          {t('users.team')} <span className="hint">({t('optional')})</span>
        </label>
        <input id={`${id}-t`} value={team} onChange={(e) => setTeam(e.target.value)} maxLength={100} aria-describedby={`${id}-th`} autoComplete="off" />
        <p id={`${id}-th`} className="hint">
          {t('users.teamHint')}
        </p>
        <label className="check">
          <input type="checkbox" checked={oidc} onChange={(e) => setOidc(e.target.checked)} /> {t('users.oidcToggle')}
        </label>
        {oidc && (
          <>
            <label htmlFor={`${id}-i`}>{t('users.oidcIssuer')}</label>
            <input id={`${id}-i`} type="url" value={issuer} onChange={(e) => setIssuer(e.target.value)} required maxLength={500} placeholder="https://" />
            <label htmlFor={`${id}-s`}>{t('users.oidcSubject')}</label>
            <input id={`${id}-s`} value={subject} onChange={(e) => setSubject(e.target.value)} required maxLength={255} aria-describedby={`${id}-sh`} autoComplete="off" />
            <p id={`${id}-sh`} className="hint">
              {t('users.oidcSubjectHint')}
            </p>
          </>
        )}
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {tc('cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            {t('users.createSubmit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
