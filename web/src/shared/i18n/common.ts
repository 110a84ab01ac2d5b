import type { Dict } from './dict';

const en = {
  appName: 'callvault',
  skipToContent: 'Skip to content',
  language: 'Language',
  nav: { recordings: 'Recordings', audit: 'Audit log', privacy: 'Privacy', admin: 'Administration', main: 'Main' },
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
  /** the labels in place of removed identifiers; the server writes them in Swedish */
  masks: { PERSONNUMMER: '[PERSONAL ID]', TELEFON: '[PHONE]', 'E-POST': '[EMAIL]', NAMN: '[NAME]' },
  identifierKinds: { personnummer: 'personal identity number', samordningsnummer: 'coordination number', phone: 'phone number', email: 'e-mail address' },
} as const;

const sv: Dict<typeof en> = {
  appName: 'callvault',
  skipToContent: 'Hoppa till innehållet',
  language: 'Språk',
  nav: { recordings: 'Inspelningar', audit: 'Granskningslogg', privacy: 'Dataskydd', admin: 'Administration', main: 'Huvudmeny' },
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
  masks: { PERSONNUMMER: '[PERSONNUMMER]', TELEFON: '[TELEFON]', 'E-POST': '[E-POST]', NAMN: '[NAMN]' },
  identifierKinds: { personnummer: 'personnummer', samordningsnummer: 'samordningsnummer', phone: 'telefonnummer', email: 'e-postadress' },
};

export default { en, sv };
