/**
 * Enrolment with the single-use code an administrator handed over (POST /api/v1/auth/enrol): the
 * person names their account and the code, the server answers with the authenticator's secret
 * (shown as on a first sign-in), and the person sends a code from the authenticator with a
 * password of their own. Nobody else ever sees either. An account that can reach recordings
 * then waits for the organisation's privacy officer: the page says so rather than sending the
 * person to a sign-in that would be refused.
 */
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { useErrorLine } from '../../shared/components/ErrorText';
import { AuthenticatorSetup, type TotpEnrolment } from './Authenticator';

type Refusal = { error?: { code?: string; message?: string }; totpSecret?: string; totpUri?: string } | undefined;

/** `onBack(username)`: to the sign-in form, with the username when the account can sign in now */
export function EnrolForm({ onBack }: { onBack: (enrolled?: string) => void }) {
  const { t } = useTranslation('signin');
  const errorLine = useErrorLine();
  const id = useId();
  const [username, setUsername] = useState('');
  const [enrolmentCode, setEnrolmentCode] = useState('');
  const [setup, setSetup] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [repeated, setRepeated] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [waiting, setWaiting] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setMessage(null);
    if (!username.trim() || !enrolmentCode.trim()) return setMessage(t('enrol.needAccount'));
    if (setup) {
      if (!/^\d{6}$/.test(code)) return setMessage(t('enrol.needCode'));
      if (!newPassword) return setMessage(t('enrol.needPassword'));
      if (newPassword !== repeated) return setMessage(t('enrol.mismatch'));
    }
    setBusy(true);
    try {
      const { data, error } = await api.POST('/api/v1/auth/enrol', {
        body: { username: username.trim(), enrolmentCode: enrolmentCode.trim(), ...(setup ? { code, newPassword } : {}) },
      });
      if (data) {
        if (data.approval === 'pending') return setWaiting(true);
        return onBack(data.username);
      }
      const answer = error as Refusal;
      switch (answer?.error?.code) {
        case 'CV_TOTP_ENROLMENT_REQUIRED':
          if (answer.totpSecret && answer.totpUri) setSetup({ secret: answer.totpSecret, uri: answer.totpUri });
          break;
        case 'CV_WEAK_PASSWORD':
        case 'CV_RATE_LIMITED':
          setMessage(errorLine({ code: answer.error.code, message: answer.error.message ?? '' }));
          break;
        default:
          // the server says no more than this, for a wrong username, code or authenticator code alike
          setMessage(setup ? t('enrol.failedCode') : t('enrol.failed'));
          setCode('');
      }
    } catch {
      setMessage(errorLine({ code: 'CV_NETWORK', message: '' }));
    } finally {
      setBusy(false);
    }
  }

  if (waiting) {
    return (
      <section className="signin card" aria-labelledby={`${id}-h`}>
        <h1 id={`${id}-h`}>{t('enrol.waitingHeading')}</h1>
        <p className="notice" role="status">
          {t('enrol.waiting')}
        </p>
        <p>{t('enrol.waitingNext')}</p>
        <button type="button" className="primary wide" onClick={() => onBack()}>
          {t('enrol.back')}
        </button>
      </section>
    );
  }

  return (
    <section className="signin card" aria-labelledby={`${id}-h`}>
      <h1 id={`${id}-h`}>{t('enrol.heading')}</h1>
      <p className="hint">{t('enrol.intro')}</p>
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${id}-u`}>{t('username')}</label>
        <input
          id={`${id}-u`}
          name="username"
          autoComplete="username"
          value={username}
          readOnly={Boolean(setup)}
          onChange={(e) => setUsername(e.target.value)}
          required
          autoFocus={!setup}
        />
        <label htmlFor={`${id}-e`}>{t('enrol.code')}</label>
        <input
          id={`${id}-e`}
          name="enrolmentCode"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={64}
          value={enrolmentCode}
          readOnly={Boolean(setup)}
          onChange={(e) => setEnrolmentCode(e.target.value)}
          aria-describedby={`${id}-eh`}
          required
        />
        <p id={`${id}-eh`} className="hint">
          {t('enrol.codeHint')}
        </p>
        {setup && (
          <>
            <AuthenticatorSetup enrolment={setup} />
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
              required
              autoFocus={Boolean(setup)}
            />
            <p id={`${id}-ch`} className="hint">
              {t('codeHint')}
            </p>
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
            />
            <p id={`${id}-nh`} className="hint">
              {t('enrol.passwordHint')}
            </p>
            <label htmlFor={`${id}-r`}>{t('enrol.repeat')}</label>
            <input id={`${id}-r`} name="repeatPassword" type="password" autoComplete="new-password" value={repeated} onChange={(e) => setRepeated(e.target.value)} required />
          </>
        )}
        {message && (
          <p className="error" role="alert">
            {message}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('enrol.busy') : setup ? t('enrol.submit') : t('enrol.next')}
        </button>
      </form>
      <p className="enrol-link">
        <button type="button" className="link" onClick={() => onBack()}>
          {t('enrol.back')}
        </button>
      </p>
    </section>
  );
}
