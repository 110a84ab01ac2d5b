/**
 * A modal dialog on the native <dialog> element: the browser keeps focus inside it, Escape
 * closes it (unless it must not be closed), and the page behind is inert to screen readers.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export function Modal({ title, children, onClose, closable = true, tone }: { title: string; children: ReactNode; onClose: () => void; closable?: boolean; tone?: 'danger' }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    // showModal() focuses the first focusable element, the close button: the first field is
    // where the user starts (React's autoFocus ran before the dialog opened)
    dialog?.querySelector<HTMLElement>('.modal-body input:not([readonly]), .modal-body select, .modal-body textarea')?.focus();
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
