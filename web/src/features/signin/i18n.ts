import type { Dict } from '../../shared/i18n/dict';

const en = {
  heading: 'Sign in',
  username: 'Username',
  password: 'Password',
  code: 'Code',
  codeHint: 'Six digits from your authenticator app',
  newPassword: 'New password',
  newPasswordHint: 'Your password was set by an administrator: choose your own (long, not guessable).',
  submit: 'Sign in',
  busy: 'Signing in…',
  orOidc: 'Or sign in with your organisation',
  oidcButton: 'Sign in with {{label}}',
  failed: 'Sign-in failed: wrong username, password or code, or the account is locked for a while.',
  enrolHeading: 'Set up your authenticator',
  enrolText: 'Scan this code with an authenticator app (or type the secret), then enter the six-digit code it shows.',
  enrolSecret: 'Secret',
  qrAlt: 'QR code for your authenticator app',
  expiredHeading: 'Your session has ended',
  expiredText: 'Sign in again to continue where you were. Nothing on this page is lost.',
  otherUser: 'Signed in as a different user: starting over.',
} as const;

const sv: Dict<typeof en> = {
  heading: 'Logga in',
  username: 'Användarnamn',
  password: 'Lösenord',
  code: 'Kod',
  codeHint: 'Sex siffror från din autentiseringsapp',
  newPassword: 'Nytt lösenord',
  newPasswordHint: 'Lösenordet sattes av en administratör: välj ett eget (långt, svårgissat).',
  submit: 'Logga in',
  busy: 'Loggar in…',
  orOidc: 'Eller logga in via din organisation',
  oidcButton: 'Logga in med {{label}}',
  failed: 'Inloggningen misslyckades: fel användarnamn, lösenord eller kod, eller så är kontot tillfälligt låst.',
  enrolHeading: 'Koppla din autentiseringsapp',
  enrolText: 'Skanna koden med en autentiseringsapp (eller skriv in hemligheten) och ange sedan den sexsiffriga koden som visas.',
  enrolSecret: 'Hemlighet',
  qrAlt: 'QR-kod för din autentiseringsapp',
  expiredHeading: 'Din session har gått ut',
  expiredText: 'Logga in igen för att fortsätta där du var. Inget på sidan går förlorat.',
  otherUser: 'Inloggad som en annan användare: börjar om.',
};

export default { en, sv };
