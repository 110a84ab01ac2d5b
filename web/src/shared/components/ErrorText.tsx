import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';

/**
 * The words for a failed request: the code's message in the user's language (shared/i18n/errors.ts).
 * The server's own words, which name the particular field or rule, are English: they follow in
 * the English interface only, so that a Swedish page stays Swedish; except for an invalid request,
 * whose message alone says which field is wrong (shown marked as English).
 */
const DETAIL_IN_EVERY_LANGUAGE = new Set(['CV_INVALID_REQUEST']);

export function useErrorWords(): (error: ApiError) => { text: string; detail: string | null } {
  const { t, i18n } = useTranslation('errors');
  return useCallback(
    (error: ApiError) => {
      const known = i18n.exists(error.code, { ns: 'errors' });
      const text = known ? t(error.code as 'CV_INTERNAL') : t('common:error.generic', { code: error.code });
      const shown = i18n.language === 'en' || DETAIL_IN_EVERY_LANGUAGE.has(error.code);
      const detail = shown && error.message && error.message !== text ? error.message : null;
      return { text, detail };
    },
    [t, i18n],
  );
}

/** the same as one line of text, for places that show a string */
export function useErrorLine(): (error: ApiError) => string {
  const words = useErrorWords();
  return useCallback(
    (error: ApiError) => {
      const { text, detail } = words(error);
      return detail ? `${text} (${detail})` : text;
    },
    [words],
  );
}

/** A failed request's message, announced as it appears; a string is shown as it is. */
export function ErrorText({ error }: { error: ApiError | string | null | undefined }) {
  const words = useErrorWords();
  if (!error) return null;
  if (typeof error === 'string') {
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  }
  const { text, detail } = words(error);
  return (
    <p className="error" role="alert">
      {text}
      {detail && (
        <>
          {' '}
          <span lang="en">({detail})</span>
        </>
      )}
    </p>
  );
}
