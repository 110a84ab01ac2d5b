/**
 * Swedish and English. The language is the one chosen in the header, else the browser's; each
 * area of the interface has its own namespace, so the pages' messages live beside each other.
 */
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import common from './common';
import recordings from './recordings';
import audit from './audit';
import privacy from './privacy';
import admin from './admin';

export const LANGUAGES = ['sv', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const namespaces = { common, recordings, audit, privacy, admin };
const STORAGE_KEY = 'callvault.language';

function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'sv' || stored === 'en') return stored;
  return navigator.language.toLowerCase().startsWith('sv') ? 'sv' : 'en';
}

const resources = Object.fromEntries(LANGUAGES.map((lng) => [lng, Object.fromEntries(Object.entries(namespaces).map(([ns, d]) => [ns, d[lng]]))]));

void i18n.use(initReactI18next).init({
  resources,
  lng: initialLanguage(),
  fallbackLng: 'en',
  defaultNS: 'common',
  ns: Object.keys(namespaces),
  // React escapes what it renders
  interpolation: { escapeValue: false },
});
document.documentElement.lang = i18n.language;

export function setLanguage(lng: Language): void {
  localStorage.setItem(STORAGE_KEY, lng);
  void i18n.changeLanguage(lng);
  document.documentElement.lang = lng;
}

export { i18n };
