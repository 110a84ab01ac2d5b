import { useTranslation } from 'react-i18next';
import { LANGUAGES, setLanguage, type Language } from '../i18n/language';

export function LanguagePicker() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language">
      <span>{t('language')}</span>
      <select value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l} value={l} lang={l}>
            {l === 'sv' ? 'Svenska' : 'English'}
          </option>
        ))}
      </select>
    </label>
  );
}
