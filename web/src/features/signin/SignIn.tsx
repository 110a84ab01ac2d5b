/**
 * Sign-in: username, password and a code from the authenticator in one form. The server answers
 * what the account still needs: on the first sign-in the authenticator's secret (shown as a QR
 * code to scan), and for a password an administrator set, a new password.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import QRCode from 'qrcode';
import { api } from '../../shared/api/client';
import { useErrorLine } from '../../shared/components/ErrorText';
import type { SessionBody } from '../../shared/session';

/** the provider sends the browser back to /: the page the user asked for is opened after that */
export const RETURN_TO = 'callvault.returnTo';
function rememberPlace() {
  sessionStorage.setItem(RETURN_TO, window.location.pathname + window.location.search);
}

export function SignInForm({ onSignedIn, username: fixedUsername, compact }: { onSignedIn: (session: SessionBody) => void; username?: string; compact?: boolean }) {
  const { t } = useTranslation('signin');
  const errorLine = useErrorLine();
  const id = useId();
  const [username, setUsername] = useState(fixedUsername ?? '');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [needsNewPassword, setNeedsNewPassword] = useState(false);
  const [enrolment, setEnrolment] = useState<{ secret: string; qr: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<Array<{ id: string; label: string }>>([]);

  useEffect(() => {
    if (compact) return;
    void api.GET('/api/v1/auth/oidc/providers').then(({ data }) => setProviders(data?.providers ?? []));
  }, [compact]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const { data, error } = await api.POST('/api/v1/auth/signin', {
        body: { username, password, ...(code ? { code } : {}), ...(needsNewPassword && newPassword ? { newPassword } : {}) },
      });
      if (data) return onSignedIn(data);
      const answer = error as { error?: { code?: string; message?: string }; totpUri?: string; totpSecret?: string } | undefined;
      switch (answer?.error?.code) {
        case 'CV_TOTP_ENROLMENT_REQUIRED':
          if (answer.totpUri && answer.totpSecret) {
            setEnrolment({ secret: answer.totpSecret, qr: await QRCode.toDataURL(answer.totpUri, { margin: 1, width: 200 }) });
          }
          break;
        case 'CV_PASSWORD_CHANGE_REQUIRED':
          setNeedsNewPassword(true);
          break;
        case 'CV_WEAK_PASSWORD':
        case 'CV_RATE_LIMITED':
          setMessage(errorLine({ code: answer.error.code, message: answer.error.message ?? '' }));
          break;
        default:
          setMessage(t('failed'));
          setCode('');
      }
    } catch {
      setMessage(errorLine({ code: 'CV_NETWORK', message: '' }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className={compact ? 'signin compact' : 'signin card'} aria-labelledby={compact ? undefined : `${id}-h`}>
      {!compact && <h1 id={`${id}-h`}>{t('heading')}</h1>}
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${id}-u`}>{t('username')}</label>
        <input
          id={`${id}-u`}
          name="username"
          autoComplete="username"
          value={username}
          readOnly={Boolean(fixedUsername)}
          onChange={(e) => setUsername(e.target.value)}
          required
          autoFocus={!fixedUsername}
        />
        <label htmlFor={`${id}-p`}>{t('password')}</label>
        <input
          id={`${id}-p`}
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          autoFocus={Boolean(fixedUsername)}
        />
        {enrolment && (
          <fieldset className="enrol" aria-labelledby={`${id}-eh`}>
            <h2 id={`${id}-eh`}>{t('enrolHeading')}</h2>
            <p>{t('enrolText')}</p>
            <img src={enrolment.qr} alt={t('qrAlt')} width={200} height={200} />
            <p>
              {t('enrolSecret')}: <code className="secret">{enrolment.secret}</code>
            </p>
          </fieldset>
        )}
        <label htmlFor={`${id}-c`}>{t('code')}</label>
        <input
          id={`${id}-c`}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          value={code}
          onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
          aria-describedby={`${id}-ch`}
          autoFocus={Boolean(enrolment)}
        />
        <p id={`${id}-ch`} className="hint">
          {t('codeHint')}
        </p>
        {needsNewPassword && (
          <>
            <label htmlFor={`${id}-n`}>{t('newPassword')}</label>
            <input
              id={`${id}-n`}
              name="newPassword"
              type="password"
              autoComplete="new-password"
              value={newPassword}
              onChange={(e) => setNewPassword(e.target.value)}
              aria-describedby={`${id}-nh`}
              required
              autoFocus
            />
            <p id={`${id}-nh`} className="hint">
              {t('newPasswordHint')}
            </p>
          </>
        )}
        {message && (
          <p className="error" role="alert">
            {message}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('busy') : t('submit')}
        </button>
      </form>
      {providers.length > 0 && (
        <div className="oidc">
          <p>{t('orOidc')}</p>
          {providers.map((p) => (
            <a key={p.id} className="button" href={`/api/v1/auth/oidc/${encodeURIComponent(p.id)}/start`} onClick={rememberPlace}>
              {t('oidcButton', { label: p.label })}
            </a>
          ))}
        </div>
      )}
    </section>
  );
}
