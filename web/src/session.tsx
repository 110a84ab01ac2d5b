/**
 * Who is signed in. The app asks the server once at start; a page is shown only to a signed-in
 * user. When the session ends under an open page (idle time, sign-out elsewhere), the sign-in form
 * opens over the page, and the requests that were refused are sent again afterwards.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, onSessionExpired, setCsrfToken } from './api/client';
import type { paths } from './api/schema';
import { SignInForm } from './pages/SignIn';
import { Modal } from './components/Modal';
import { LanguagePicker } from './components/LanguagePicker';

type SessionBody = paths['/api/v1/auth/session']['get']['responses'][200]['content']['application/json'];
export type Role = 'nurse' | 'supervisor' | 'dpo' | 'auditor' | 'admin';
export interface User {
  id: string;
  username: string;
  role: Role;
  controllerId: string | null;
  processorId: string | null;
  agent: string | null;
  team: string | null;
}

interface SessionValue {
  user: User;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a signed-in page');
  return value;
}

function userOf(body: SessionBody | undefined): User | null {
  const u = body?.user;
  if (!u?.id || !u.username || !u.role) return null;
  setCsrfToken(body?.csrfToken);
  return { id: u.id, username: u.username, role: u.role as Role, controllerId: u.controllerId ?? null, processorId: u.processorId ?? null, agent: u.agent ?? null, team: u.team ?? null };
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const waiting = useRef<Array<() => void>>([]);
  const userRef = useRef<User | null | undefined>(undefined);
  userRef.current = user;

  useEffect(() => {
    void api.GET('/api/v1/auth/session').then(({ data }) => setUser(userOf(data)), () => setUser(null));
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

  const signedIn = useCallback((body: SessionBody) => {
    const next = userOf(body);
    if (expired && next && userRef.current && next.id !== userRef.current.id) {
      // another person at the keyboard: nothing of the previous user's page may stay
      window.alert(t('signIn.otherUser'));
      window.location.assign('/');
      return;
    }
    setUser(next);
    setExpired(false);
    for (const resolve of waiting.current.splice(0)) resolve();
  }, [expired, t]);

  const signOut = useCallback(async () => {
    await api.POST('/api/v1/auth/signout');
    setCsrfToken(undefined);
    sessionStorage.clear();
    window.location.assign('/');
  }, []);

  if (user === undefined) return <p className="loading">{t('loading')}</p>;
  if (user === null) {
    return (
      <main id="main" className="signin-page">
        <div>
          <LanguagePicker />
          <SignInForm onSignedIn={signedIn} />
        </div>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={{ user, signOut }}>
      {children}
      {expired && (
        <Modal title={t('signIn.expiredHeading')} onClose={() => undefined} closable={false}>
          <p>{t('signIn.expiredText')}</p>
          <SignInForm onSignedIn={signedIn} username={user.username} compact />
        </Modal>
      )}
    </SessionContext.Provider>
  );
}
