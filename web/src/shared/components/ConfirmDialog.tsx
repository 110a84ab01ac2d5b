/**
 * Asks before an action that cannot be undone (disabling an account, ending a contract, refusing
 * an approval); stays open with the error when it fails.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { autofocus, Modal } from './Modal';
import { ErrorText } from './ErrorText';

export function ConfirmDialog({
  title,
  children,
  confirm,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ReactNode;
  confirm: string;
  onConfirm: () => Promise<string | null>;
  onClose: () => void;
}) {
  const { t: tc } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function go() {
    setBusy(true);
    setError(null);
    const failed = await onConfirm();
    setBusy(false);
    if (failed) setError(failed);
  }
  return (
    <Modal title={title} onClose={onClose} tone="danger">
      {children}
      <ErrorText error={error} />
      <div className="actions">
        <button type="button" onClick={onClose} ref={autofocus}>
          {tc('cancel')}
        </button>
        <button type="button" className="danger" onClick={() => void go()} disabled={busy} aria-busy={busy}>
          {confirm}
        </button>
      </div>
    </Modal>
  );
}
