import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';

/**
 * A failed request's message, announced as it appears: given as words already (the
 * administration's, see useFailure), or as the API's error (the server's message, else a generic one).
 */
export function ErrorText({ error }: { error: ApiError | string | null | undefined }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {typeof error === 'string' ? error : error.code === 'CV_NETWORK' ? t('error.network') : error.message || t('error.generic', { code: error.code })}
    </p>
  );
}
