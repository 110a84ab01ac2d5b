/**
 * The frame every page shares: a header with the user, the language and sign-out, and a menu
 * with the pages the user can use. Which those are follows the permissions in the session answer:
 * the server decides, and the menu only leaves out pages that would answer 403.
 */
import { useEffect } from 'react';
import { NavLink, Navigate, Route, Routes, useNavigate } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useSession, type Permission } from './shared/session';
import { LanguagePicker } from './shared/components/LanguagePicker';
import { SessionProvider } from './features/signin/SessionProvider';
import { RETURN_TO } from './features/signin/SignIn';
import { RecordingsPage } from './features/recordings/Recordings';
import { RecordingPage } from './features/recordings/Recording';
import { BreakGlassBanner } from './features/recordings/BreakGlass';
import { AuditPage } from './features/audit/Audit';
import { PrivacyPage } from './features/privacy/Privacy';
import { AdminPage } from './features/admin/Admin';

/** each page, and the permissions of which the user needs one to see it */
const PAGES: Array<{ path: string; key: 'recordings' | 'audit' | 'privacy' | 'admin'; needs: Permission[] }> = [
  { path: '/recordings', key: 'recordings', needs: ['recordings:list'] },
  { path: '/privacy', key: 'privacy', needs: ['subject:find'] },
  { path: '/audit', key: 'audit', needs: ['audit:read'] },
  { path: '/admin', key: 'admin', needs: ['users:manage', 'tokens:manage', 'tenancy:manage'] },
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
  const { user, signOut, can } = useSession();
  const pages = PAGES.filter((p) => p.needs.some(can));
  const has = (key: (typeof PAGES)[number]['key']) => pages.some((p) => p.key === key);
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
          {has('recordings') && (
            <>
              <Route path="/recordings" element={<RecordingsPage />} />
              <Route path="/recordings/:id" element={<RecordingPage />} />
            </>
          )}
          {has('privacy') && <Route path="/privacy" element={<PrivacyPage />} />}
          {has('audit') && <Route path="/audit" element={<AuditPage />} />}
          {has('admin') && <Route path="/admin" element={<AdminPage />} />}
          <Route path="*" element={<Navigate to={home} replace />} />
        </Routes>
      </main>
    </>
  );
}
