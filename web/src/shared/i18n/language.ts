/**
 * The interface's languages: the one chosen in the header (remembered in localStorage), else the
 * browser's. The messages themselves are registered in web/src/i18n.ts.
 */
import i18n from 'i18next';

export const LANGUAGES = ['sv', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = 'callvault.language';

export function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'sv' || stored === 'en') return stored;
  return navigator.language.toLowerCase().startsWith('sv') ? 'sv' : 'en';
}

export function setLanguage(lng: Language): void {
  localStorage.setItem(STORAGE_KEY, lng);
  void i18n.changeLanguage(lng);
  document.documentElement.lang = lng;
}

export { i18n };
