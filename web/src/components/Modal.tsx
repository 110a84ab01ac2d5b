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
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
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
      {children}
    </dialog>
  );
}
