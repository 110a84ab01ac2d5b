/**
 * Who is signed in, and what the server says they may do. The app asks the server at start; a page
 * is shown only to a signed-in user. When the session ends under an open page (idle time, sign-out
 * elsewhere), the sign-in form opens over the page, and the requests that were refused are sent
 * again afterwards.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, onSessionExpired, setCsrfToken } from '../../shared/api/client';
import {
  namesOf,
  SessionContext,
  type BreakGlassPeriod,
  type Names,
  type Permission,
  type Purpose,
  type Rendition,
  type Role,
  type Session,
  type SessionBody,
  type User,
} from '../../shared/session';
import { Modal } from '../../shared/components/Modal';
import { LanguagePicker } from '../../shared/components/LanguagePicker';
import { SignInForm, SignInPage } from './SignIn';

interface Answer {
  user: User;
  permissions: ReadonlySet<Permission>;
  purposes: readonly Purpose[];
  renditions: readonly Rendition[];
  breakGlass: readonly BreakGlassPeriod[];
  names: Names;
}

function answerOf(body: SessionBody | undefined): Answer | null {
  const u = body?.user;
  if (!body || !u?.id || !u.username || !u.role) return null;
  setCsrfToken(body.csrfToken);
  return {
    user: {
      id: u.id,
      username: u.username,
      role: u.role as Role,
      controllerId: u.controllerId ?? null,
      processorId: u.processorId ?? null,
      agent: u.agent ?? null,
      team: u.team ?? null,
    },
    permissions: new Set(body.permissions),
    purposes: body.purposes,
    renditions: body.renditions,
    breakGlass: body.breakGlass,
    names: namesOf(body.names),
  };
}

const inForce = (periods: readonly BreakGlassPeriod[]) => periods.filter((p) => p.expiresAt > new Date().toISOString());

export function SessionProvider({ children }: { children: ReactNode }) {
  const { t } = useTranslation('signin');
  const { t: tc } = useTranslation();
  const [answer, setAnswer] = useState<Answer | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const waiting = useRef<Array<() => void>>([]);
  const answerRef = useRef<Answer | null | undefined>(undefined);
  answerRef.current = answer;

  useEffect(() => {
    void api.GET('/api/v1/auth/session').then(
      ({ data }) => setAnswer(answerOf(data)),
      () => setAnswer(null),
    );
  }, []);

  useEffect(() => {
    onSessionExpired(
      () =>
        new Promise<void>((resolve) => {
          waiting.current.push(resolve);
          setExpired(true);
        }),
    );
    return () => onSessionExpired(undefined);
  }, []);

  const refresh = useCallback(async () => {
    const { data } = await api.GET('/api/v1/auth/session').catch(() => ({ data: undefined }));
    const next = answerOf(data);
    // the same person only; without an answer, at least the periods that ran out go
    setAnswer((current) => (next && current && next.user.id === current.user.id ? next : current ? { ...current, breakGlass: inForce(current.breakGlass) } : current));
  }, []);

  // a break-the-glass period ends by itself: ask again when the first one runs out
  const breakGlass = answer?.breakGlass;
  useEffect(() => {
    if (!breakGlass?.length) return;
    const first = Math.min(...breakGlass.map((p) => Date.parse(p.expiresAt)));
    const timer = setTimeout(() => void refresh(), Math.min(Math.max(first - Date.now(), 0) + 500, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [breakGlass, refresh]);

  const signedIn = useCallback(
    (body: SessionBody) => {
      const next = answerOf(body);
      if (expired && next && answerRef.current && next.user.id !== answerRef.current.user.id) {
        // another person at the keyboard: nothing of the previous user's page may stay
        window.alert(t('otherUser'));
        window.location.assign('/');
        return;
      }
      setAnswer(next);
      setExpired(false);
      for (const resolve of waiting.current.splice(0)) resolve();
    },
    [expired, t],
  );

  const signOut = useCallback(async () => {
    await api.POST('/api/v1/auth/signout');
    setCsrfToken(undefined);
    sessionStorage.clear();
    window.location.assign('/');
  }, []);

  const session = useMemo<Session | null>(
    () =>
      answer
        ? {
            user: answer.user,
            can: (permission) => answer.permissions.has(permission),
            purposes: answer.purposes,
            renditions: answer.renditions,
            breakGlass: answer.breakGlass,
            names: answer.names,
            refresh,
            signOut,
          }
        : null,
    [answer, refresh, signOut],
  );

  if (answer === undefined) return <p className="loading">{tc('loading')}</p>;
  if (!session) {
    return (
      <main id="main" className="signin-page">
        <div>
          <LanguagePicker />
          <SignInPage onSignedIn={signedIn} />
        </div>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      {children}
      {expired && (
        <Modal title={t('expiredHeading')} onClose={() => undefined} closable={false}>
          <p>{t('expiredText')}</p>
          <SignInForm onSignedIn={signedIn} username={session.user.username} compact />
        </Modal>
      )}
    </SessionContext.Provider>
  );
}
