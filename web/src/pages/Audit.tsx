import { useTranslation } from 'react-i18next';

export function AuditPage() {
  const { t } = useTranslation('audit');
  return <h1>{t('heading')}</h1>;
}
