/**
 * Swedish and English. Each feature keeps its messages beside its pages (features/<name>/i18n.ts)
 * under its own namespace; the shared ones are `common` and `errors` (one message per CV_ code).
 */
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { LANGUAGES, initialLanguage } from './shared/i18n/language';
import common from './shared/i18n/common';
import errors from './shared/i18n/errors';
import signin from './features/signin/i18n';
import recordings from './features/recordings/i18n';
import audit from './features/audit/i18n';
import review from './features/audit/review-i18n';
import privacy from './features/privacy/i18n';
import admin from './features/admin/i18n';
import alerts from './features/alerts/i18n';

const namespaces = { common, errors, signin, recordings, audit, review, privacy, admin, alerts };

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
