/**
 * A modal dialog on the native <dialog> element: the browser keeps focus inside it, Escape
 * closes it (unless it must not be closed), and the page behind is inert to screen readers. It
 * opens on the element marked with `autofocus` (below), else on its first field, and when it
 * closes focus goes back to what opened it; when one dialog replaces another, the first has
 * given focus back before the second opens, so the second returns it there too.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

const FIRST_FIELD = '.modal-body input:not([readonly]), .modal-body select, .modal-body textarea';

/**
 * Marks the element a dialog opens on, where that is not its first field (a read-only value, a
 * button). As a ref: `ref={autofocus}` (React's autoFocus would focus it before the dialog opens,
 * and lose it).
 */
export function autofocus(el: HTMLElement | null): void {
  el?.setAttribute('autofocus', '');
}

export function Modal({ title, children, onClose, closable = true, tone }: { title: string; children: ReactNode; onClose: () => void; closable?: boolean; tone?: 'danger' }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    // showModal() focuses the element marked autofocus, else the first focusable one, the close
    // button: without a mark, the first field is where the user starts
    if (!dialog?.querySelector('.modal-body [autofocus]')) dialog?.querySelector<HTMLElement>(FIRST_FIELD)?.focus();
    return () => {
      dialog?.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={tone === 'danger' ? 'modal danger' : 'modal'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (closable) onClose();
      }}
    >
      <div className="modal-head">
        <h2 id={titleId}>{title}</h2>
        {closable && (
          <button type="button" className="icon" onClick={onClose} aria-label={t('close')}>
            ×
          </button>
        )}
      </div>
      <div className="modal-body">{children}</div>
    </dialog>
  );
}
