/**
 * Break-the-glass: emergency access to every call of one region for a limited time. It is a
 * separate, loud path: a red button, a dialog that says what it does and who reviews it, a reason
 * the privacy officer reads, and a red banner on every page while it lasts.
 */
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import { time } from '../../shared/format';
import { ErrorText } from '../../shared/components/ErrorText';
import { Modal } from '../../shared/components/Modal';
import { useNames, useSession, type BreakGlassPeriod } from '../../shared/session';

const MIN_REASON = 20;

/** the user's break-the-glass period in force, as the server's session answer lists it */
export function useBreakGlass(): BreakGlassPeriod | null {
  return useSession().breakGlass[0] ?? null;
}

/** on every page while a period lasts, after a reload too; its button ends the period at the server */
export function BreakGlassBanner() {
  const { t } = useTranslation('recordings');
  const { refresh } = useSession();
  const names = useNames();
  const period = useBreakGlass();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  if (!period) return null;

  async function end(id: string) {
    setBusy(true);
    const { error: failure, response } = await api.POST('/api/v1/break-glass/{id}/end', { params: { path: { id } } });
    // 409: it ran out meanwhile, which is what was wanted
    setError(response.ok || response.status === 409 ? null : errorOf(failure));
    await refresh();
    setBusy(false);
  }

  return (
    <div className="break-glass-banner" role="alert">
      <strong>{t('breakGlass.active', { controller: names.controller(period.controllerId), until: time(period.expiresAt) })}</strong>
      <button type="button" onClick={() => void end(period.id)} disabled={busy}>
        {t('breakGlass.end')}
      </button>
      <ErrorText error={error} />
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
  const { refresh } = useSession();
  const names = useNames();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const { data, error: failure } = await api.POST('/api/v1/break-glass', { body: { controllerId, reason, minutes } });
    if (!data?.id) return setError(errorOf(failure));
    // the banner follows the server's answer, not this one
    await refresh();
    onClose();
  }

  return (
    <Modal title={t('breakGlass.heading')} onClose={onClose} tone="danger">
      <p className="warning">{t('breakGlass.warning')}</p>
      <form onSubmit={submit}>
        <label htmlFor={`${id}-c`}>{t('breakGlass.controller')}</label>
        {/* the controller whose calls open: one the user already works for, chosen by its name */}
        <select id={`${id}-c`} value={controllerId} onChange={(e) => setControllerId(e.target.value)} required>
          {controllers.map((c) => (
            <option key={c} value={c}>
              {names.controller(c)}
            </option>
          ))}
        </select>
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
