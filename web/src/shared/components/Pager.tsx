/**
 * Paging by cursor: the server answers a page and the cursor of the next one, so going back means
 * remembering the cursors of the pages before. `useCursors` keeps them; `Pager` is the previous
 * and next buttons, shown once there is more than one page.
 */
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';

export interface Cursors<C> {
  /** the page shown, 1 for the first */
  pageNo: number;
  /** the first page again (new filters, or the same ones asked again) */
  first(): void;
  previous(): void;
  next(cursor: C): void;
}

/** where a cursor-paged list is; `load` fetches the page at a cursor (undefined: the first) */
export function useCursors<C>(load: (cursor: C | undefined) => Promise<void>): Cursors<C> {
  const [cursors, setCursors] = useState<Array<C | undefined>>([undefined]);
  const first = useCallback(() => {
    setCursors([undefined]);
    void load(undefined);
  }, [load]);
  return {
    pageNo: cursors.length,
    first,
    previous() {
      const before = cursors.slice(0, -1);
      setCursors(before);
      void load(before[before.length - 1]);
    },
    next(cursor) {
      setCursors([...cursors, cursor]);
      void load(cursor);
    },
  };
}

/** @param next the cursor of the page after the one shown, if there is one */
export function Pager<C>({
  pages,
  next,
  label,
  busy = false,
  previousText,
  nextText,
}: {
  pages: Cursors<C>;
  next: C | undefined;
  label: string;
  busy?: boolean;
  previousText?: string;
  nextText?: string;
}) {
  const { t } = useTranslation();
  if (pages.pageNo <= 1 && next === undefined) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={pages.pageNo <= 1 || busy} onClick={pages.previous}>
        {previousText ?? t('previous')}
      </button>
      <span>{t('page', { n: pages.pageNo })}</span>
      <button type="button" disabled={next === undefined || busy} onClick={() => next !== undefined && pages.next(next)}>
        {nextText ?? t('next')}
      </button>
    </nav>
  );
}
