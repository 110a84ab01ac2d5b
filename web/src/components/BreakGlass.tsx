/**
 * Break-the-glass: emergency access to every call of one region for a limited time. It is a
 * separate, loud path: a red button, a dialog that says what it does and who reviews it, a reason
 * the privacy officer reads, and a red banner on every page while it lasts.
 */
import { useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../api/client';
import { time } from '../format';
import { ErrorText } from './ErrorText';
import { Modal } from './Modal';

const KEY = 'callvault.breakGlass';
const MIN_REASON = 20;
interface Period {
  id: string;
  controllerId: string;
  expiresAt: string;
}
const listeners = new Set<() => void>();

function read(): string | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const p = JSON.parse(raw) as Period;
  if (p.expiresAt <= new Date().toISOString()) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return raw;
}

function write(p: Period | null): void {
  if (p) sessionStorage.setItem(KEY, JSON.stringify(p));
  else sessionStorage.removeItem(KEY);
  for (const l of listeners) l();
}

export function useBreakGlass(): Period | null {
  const raw = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      const timer = setInterval(l, 15_000);
      return () => {
        listeners.delete(l);
        clearInterval(timer);
      };
    },
    read,
  );
  return raw ? (JSON.parse(raw) as Period) : null;
}

export function BreakGlassBanner() {
  const { t } = useTranslation('recordings');
  const period = useBreakGlass();
  if (!period) return null;
  return (
    <div className="break-glass-banner" role="alert">
      <strong>{t('breakGlass.active', { controller: period.controllerId, until: time(period.expiresAt) })}</strong>
      <button type="button" onClick={() => write(null)}>
        {t('breakGlass.end')}
      </button>
    </div>
  );
}

export function BreakGlassButton({ controllers }: { controllers: string[] }) {
  const { t } = useTranslation('recordings');
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="danger" onClick={() => setOpen(true)}>
        ⚠ {t('breakGlass.button')}
      </button>
      {open && <BreakGlassDialog controllers={controllers} onClose={() => setOpen(false)} />}
    </>
  );
}

function BreakGlassDialog({ controllers, onClose }: { controllers: string[]; onClose: () => void }) {
  const { t } = useTranslation('recordings');
  const { t: tc } = useTranslation();
  const id = useId();
  const [controllerId, setControllerId] = useState(controllers[0] ?? '');
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState(30);
  const [confirmed, setConfirmed] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const { data, error: failure } = await api.POST('/api/v1/break-glass', { body: { controllerId, reason, minutes } });
    if (!data?.id || !data.expiresAt) return setError(errorOf(failure));
    write({ id: data.id, controllerId, expiresAt: data.expiresAt });
    onClose();
  }

  return (
    <Modal title={t('breakGlass.heading')} onClose={onClose} tone="danger">
      <p className="warning">{t('breakGlass.warning')}</p>
      <form onSubmit={submit}>
        <label htmlFor={`${id}-c`}>{t('breakGlass.controller')}</label>
        {controllers.length > 1 ? (
          <select id={`${id}-c`} value={controllerId} onChange={(e) => setControllerId(e.target.value)}>
            {controllers.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        ) : (
          <input id={`${id}-c`} value={controllerId} onChange={(e) => setControllerId(e.target.value)} required />
        )}
        <label htmlFor={`${id}-r`}>{t('breakGlass.reason')}</label>
        <textarea id={`${id}-r`} value={reason} onChange={(e) => setReason(e.target.value)} minLength={MIN_REASON} required aria-describedby={`${id}-rh`} rows={3} />
        <p id={`${id}-rh`} className="hint">
          {t('breakGlass.reasonHint')}
        </p>
        <label htmlFor={`${id}-m`}>{t('breakGlass.minutes')}</label>
        <input id={`${id}-m`} type="number" min={1} max={60} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} />
        <label className="check">
          <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> {t('breakGlass.confirm')}
        </label>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {tc('cancel')}
          </button>
          <button type="submit" className="danger" disabled={!confirmed || reason.trim().length < MIN_REASON || !controllerId}>
            {t('breakGlass.start')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
