/**
 * Key status, for looking only: per controller its key pairs (created, active or retired,
 * algorithm, how many stored recordings each holds the data keys of), which provider keeps them
 * and whether this server has them unlocked. The answer holds no key material; nothing here
 * changes a key (rotation and unlocking are the key custodian's, from the shell).
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { dateTime } from '../../shared/format';
import { orgLabel, useFailure, type KeyStatus } from './AdminShared';
import { ErrorText } from '../../shared/components/ErrorText';

export function AdminKeys({ headingId }: { headingId: string }) {
  const { t, i18n } = useTranslation('admin');
  const failure = useFailure();
  const [status, setStatus] = useState<KeyStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    setBusy(true);
    const { data, error: failed } = await api.GET('/api/v1/keys');
    setBusy(false);
    if (!data) return setError(failure(failed));
    setError(null);
    setStatus(data);
  }, [failure]);
  useEffect(() => void load(), [load]);

  const number = new Intl.NumberFormat(i18n.language === 'sv' ? 'sv-SE' : 'en-GB');
  return (
    <>
      <div className="page-head">
        <h2 id={headingId}>{t('keys.heading')}</h2>
        <button type="button" onClick={() => void load()} disabled={busy} aria-busy={busy}>
          {t('keys.refresh')}
        </button>
      </div>
      <p className="hint">{t('keys.intro')}</p>
      <ErrorText error={error} />
      {status && (
        <>
          <dl className="facts admin-facts">
            <dt>{t('keys.provider')}</dt>
            <dd>{t(`keys.providers.${status.provider}`, { defaultValue: status.provider })}</dd>
            <dt>{t('keys.unlocked')}</dt>
            <dd>{status.unlocked ? <span className="verified">{t('keys.isUnlocked')}</span> : <span className="failed">{t('keys.isLocked')}</span>}</dd>
          </dl>
          {!status.unlocked && <p className="warning">{t('keys.lockedNote')}</p>}
          {status.controllers.length === 0 && <p>{t('keys.none')}</p>}
          {status.controllers.map((c) => {
            const active = c.keys.filter((k) => k.status === 'active').length;
            return (
              <section key={c.id} className="admin-sub" aria-labelledby={`keys-${c.id}`}>
                <h3 id={`keys-${c.id}`}>{orgLabel(status.controllers, c.id)}</h3>
                {active === 0 && <p className="warning">{t('keys.noActive')}</p>}
                {c.keys.length > 0 ? (
                  // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so that keyboard users can scroll it (WCAG 2.1.1)
                  <section className="admin-scroll" aria-labelledby={`keys-${c.id}`} tabIndex={0}>
                    <table className="admin-table">
                      <thead>
                        <tr>
                          <th scope="col">{t('keys.keyId')}</th>
                          <th scope="col">{t('keys.created')}</th>
                          <th scope="col">{t('keys.status')}</th>
                          <th scope="col">{t('keys.algorithm')}</th>
                          <th scope="col" className="num">
                            {t('keys.recordings')}
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        {c.keys.map((k) => (
                          <tr key={k.keyId} className={k.status === 'retired' ? 'admin-muted' : undefined}>
                            <th scope="row">
                              <code>{k.keyId}</code>
                            </th>
                            <td>{dateTime(k.createdAt)}</td>
                            <td>
                              <span className={`admin-state ${k.status === 'active' ? 'inForce' : 'ended'}`}>{t(`keys.states.${k.status}`)}</span>
                            </td>
                            <td>
                              <code>{k.algorithm}</code>
                            </td>
                            <td className="num">{number.format(k.recordings)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </section>
                ) : (
                  <p>{t('keys.noKeys')}</p>
                )}
              </section>
            );
          })}
        </>
      )}
    </>
  );
}
