import type { Dict } from './dict';

const en = {
  appName: 'callvault',
  skipToContent: 'Skip to content',
  language: 'Language',
  nav: { recordings: 'Recordings', audit: 'Audit log', privacy: 'Subject requests', admin: 'Administration', main: 'Main' },
  signedInAs: 'Signed in as {{username}} ({{role}})',
  signOut: 'Sign out',
  roles: { nurse: 'nurse', supervisor: 'supervisor', dpo: 'privacy officer', auditor: 'auditor', admin: 'administrator' },
  error: { generic: 'Something went wrong ({{code}}).' },
  loading: 'Loading…',
  close: 'Close',
  cancel: 'Cancel',
  previous: 'Previous',
  next: 'Next',
  page: 'Page {{n}}',
  none: '—',
  yes: 'yes',
  no: 'no',
} as const;

const sv: Dict<typeof en> = {
  appName: 'callvault',
  skipToContent: 'Hoppa till innehållet',
  language: 'Språk',
  nav: { recordings: 'Inspelningar', audit: 'Granskningslogg', privacy: 'Registerutdrag och radering', admin: 'Administration', main: 'Huvudmeny' },
  signedInAs: 'Inloggad som {{username}} ({{role}})',
  signOut: 'Logga ut',
  roles: { nurse: 'sjuksköterska', supervisor: 'arbetsledare', dpo: 'dataskyddsombud', auditor: 'granskare', admin: 'administratör' },
  error: { generic: 'Något gick fel ({{code}}).' },
  loading: 'Laddar…',
  close: 'Stäng',
  cancel: 'Avbryt',
  previous: 'Föregående',
  next: 'Nästa',
  page: 'Sida {{n}}',
  none: '—',
  yes: 'ja',
  no: 'nej',
};

export default { en, sv };
