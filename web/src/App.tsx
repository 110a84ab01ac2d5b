/**
 * The frame every page shares: a header with the user, the language and sign-out, and a menu
 * with the pages the user's role can use. What a role may do is decided by the server; the menu
 * only leaves out pages that would answer 403.
 */
import { useEffect } from 'react';
import { NavLink, Navigate, Route, Routes, useNavigate } from 'react-router';
import { useTranslation } from 'react-i18next';
import { SessionProvider, useSession, type Role } from './session';
import { LanguagePicker } from './components/LanguagePicker';
import { RecordingsPage } from './pages/Recordings';
import { RecordingPage } from './pages/Recording';
import { AuditPage } from './pages/Audit';
import { PrivacyPage } from './pages/Privacy';
import { AdminPage } from './pages/Admin';
import { BreakGlassBanner } from './components/BreakGlass';
import { RETURN_TO } from './pages/SignIn';

const PAGES: Array<{ path: string; key: 'recordings' | 'audit' | 'privacy' | 'admin'; roles: Role[] }> = [
  { path: '/recordings', key: 'recordings', roles: ['nurse', 'supervisor', 'dpo'] },
  { path: '/privacy', key: 'privacy', roles: ['dpo'] },
  { path: '/audit', key: 'audit', roles: ['auditor'] },
  { path: '/admin', key: 'admin', roles: ['admin'] },
];

export function App() {
  return (
    <>
      <a className="skip" href="#main">
        <SkipText />
      </a>
      <SessionProvider>
        <Frame />
      </SessionProvider>
    </>
  );
}

function SkipText() {
  const { t } = useTranslation();
  return <>{t('skipToContent')}</>;
}

function Frame() {
  const { t } = useTranslation();
  const { user, signOut } = useSession();
  const pages = PAGES.filter((p) => p.roles.includes(user.role));
  const home = pages[0]?.path ?? '/recordings';
  const navigate = useNavigate();
  useEffect(() => {
    // back from the identity provider: to the page the user was on (a path of ours only)
    const place = sessionStorage.getItem(RETURN_TO);
    sessionStorage.removeItem(RETURN_TO);
    if (place?.startsWith('/') && !place.startsWith('//')) navigate(place, { replace: true });
  }, [navigate]);
  return (
    <>
      <header className="top">
        <span className="brand">{t('appName')}</span>
        <nav aria-label={t('nav.main')}>
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <NavLink to={p.path}>{t(`nav.${p.key}`)}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>{t('signedInAs', { username: user.username, role: t(`roles.${user.role}`) })}</span>
          <LanguagePicker />
          <button type="button" onClick={() => void signOut()}>
            {t('signOut')}
          </button>
        </div>
      </header>
      <BreakGlassBanner />
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Navigate to={home} replace />} />
          {pages.some((p) => p.key === 'recordings') && (
            <>
              <Route path="/recordings" element={<RecordingsPage />} />
              <Route path="/recordings/:id" element={<RecordingPage />} />
            </>
          )}
          {user.role === 'dpo' && <Route path="/privacy" element={<PrivacyPage />} />}
          {user.role === 'auditor' && <Route path="/audit" element={<AuditPage />} />}
          {user.role === 'admin' && <Route path="/admin" element={<AdminPage />} />}
          <Route path="*" element={<Navigate to={home} replace />} />
        </Routes>
      </main>
    </>
  );
}
