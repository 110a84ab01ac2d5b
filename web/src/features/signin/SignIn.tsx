/**
 * Sign-in: username, password and a code from the authenticator in one form. The server answers
 * what the account still needs: on the first sign-in the authenticator's secret (shown as a QR
 * code to scan), and for a password an administrator set, a new password. A person an
 * administrator made an account for enrols first, with the code they were handed (Enrol.tsx).
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { useErrorLine } from '../../shared/components/ErrorText';
import type { SessionBody } from '../../shared/session';
import { AuthenticatorSetup, type TotpEnrolment } from './Authenticator';
import { EnrolForm } from './Enrol';

/** the provider sends the browser back to /: the page the user asked for is opened after that */
export const RETURN_TO = 'callvault.returnTo';
function rememberPlace() {
  sessionStorage.setItem(RETURN_TO, window.location.pathname + window.location.search);
}

/**
 * The page a signed-out visitor sees: the sign-in form, or enrolment with a code. After an
 * enrolment that needs no approval the sign-in form opens with the username filled in.
 */
export function SignInPage({ onSignedIn }: { onSignedIn: (session: SessionBody) => void }) {
  const { t } = useTranslation('signin');
  const [mode, setMode] = useState<{ enrol: true } | { enrol: false; enrolled?: string }>({ enrol: false });
  if (mode.enrol) return <EnrolForm onBack={(enrolled) => setMode({ enrol: false, enrolled })} />;
  return <SignInForm onSignedIn={onSignedIn} defaultUsername={mode.enrolled} notice={mode.enrolled ? t('enrolled') : undefined} onEnrol={() => setMode({ enrol: true })} />;
}

export function SignInForm({
  onSignedIn,
  username: fixedUsername,
  defaultUsername,
  notice,
  onEnrol,
  compact,
}: {
  onSignedIn: (session: SessionBody) => void;
  /** the account signing in again, which cannot be changed */
  username?: string;
  defaultUsername?: string;
  /** a line above the form (what just happened) */
  notice?: string;
  /** offers "Enrol with a code" */
  onEnrol?: () => void;
  compact?: boolean;
}) {
  const { t } = useTranslation('signin');
  const errorLine = useErrorLine();
  const id = useId();
  const [username, setUsername] = useState(fixedUsername ?? defaultUsername ?? '');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [needsNewPassword, setNeedsNewPassword] = useState(false);
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
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
          if (answer.totpUri && answer.totpSecret) setEnrolment({ secret: answer.totpSecret, uri: answer.totpUri });
          break;
        case 'CV_PASSWORD_CHANGE_REQUIRED':
          setNeedsNewPassword(true);
          break;
        case 'CV_WEAK_PASSWORD':
        case 'CV_RATE_LIMITED':
        case 'CV_APPROVAL_PENDING':
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
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
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
          autoFocus={!fixedUsername && !defaultUsername}
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
          autoFocus={Boolean(fixedUsername || defaultUsername)}
        />
        {enrolment && <AuthenticatorSetup enrolment={enrolment} />}
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
      {onEnrol && (
        <p className="enrol-link">
          {t('enrolQuestion')}{' '}
          <button type="button" className="link" onClick={onEnrol}>
            {t('enrolLink')}
          </button>
        </p>
      )}
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
