/**
 * A controller's retentions, per class (docs/retention.md): the table in force and a form to set
 * one. Setting it asks the server first without confirming: when the new retention would shred
 * recordings at the next run, the server answers how many and applies nothing, and the officer
 * confirms here before it is sent again with confirm: true. Raising one, or one that shreds
 * nothing, is applied at once.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { ErrorText, useErrorLine } from '../../shared/components/ErrorText';
import { dateTime } from '../../shared/format';
import { useNames, useSession } from '../../shared/session';

type Policy = paths['/api/v1/retention']['get']['responses'][200]['content']['application/json']['policies'][number];
type SetAnswer = paths['/api/v1/retention']['put']['responses'][200]['content']['application/json'];
interface Spec {
  controllerId: string;
  class: string;
  days: number;
}

const DEFAULT_CLASS = 'default';
const CLASS_PATTERN = '[a-z][a-z0-9\\-]{0,31}';
const MAX_DAYS = 36_525;

export function Retention() {
  const { t } = useTranslation('privacy');
  const { t: tc } = useTranslation();
  const { user } = useSession();
  const names = useNames();
  const errorLine = useErrorLine();
  const id = useId();
  const [policies, setPolicies] = useState<Policy[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [controllerId, setControllerId] = useState(user.controllerId ?? '');
  const [cls, setCls] = useState(DEFAULT_CLASS);
  const [days, setDays] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const [asking, setAsking] = useState<{ spec: Spec; answer: SetAnswer } | null>(null);

  const load = useCallback(async () => {
    const { data, error: failure } = await api.GET('/api/v1/retention');
    if (!data) return setError(errorOf(failure));
    setPolicies(data.policies);
  }, []);
  useEffect(() => void load(), [load]);

  function applied(spec: Spec, answer: SetAnswer) {
    const words = { controller: names.controller(spec.controllerId), class: spec.class, days: spec.days };
    setStatus(answer.wouldShred > 0 ? t('retention.setShred', { ...words, count: answer.wouldShred }) : t('retention.set', words));
    void load();
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const spec: Spec = { controllerId: controllerId.trim(), class: cls.trim() || DEFAULT_CLASS, days: Number(days) };
    if (!spec.controllerId || !Number.isInteger(spec.days)) return;
    setBusy(true);
    setError(null);
    setStatus('');
    const { data, error: failure } = await api.PUT('/api/v1/retention', { body: spec });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    if (!data.applied && data.wouldShred > 0) return setAsking({ spec, answer: data });
    applied(spec, data);
  }

  async function confirm(): Promise<string | null> {
    if (!asking) return null;
    const { data, error: failure } = await api.PUT('/api/v1/retention', { body: { ...asking.spec, confirm: true } });
    if (!data) return errorLine(errorOf(failure));
    setAsking(null);
    applied(asking.spec, data);
    return null;
  }

  // the officer's own controller first, then those with a retention, then every other known one (the server refuses those out of reach)
  const controllers = [
    ...new Set([user.controllerId, ...(policies ?? []).map((p) => p.controllerId), ...names.controllers.map((c) => c.id)].filter((c): c is string => Boolean(c))),
  ];
  const classes = [...new Set([DEFAULT_CLASS, 'journal', ...(policies ?? []).map((p) => p.class)])];

  return (
    <>
      <p>{t('retention.intro')}</p>
      <ErrorText error={error} />
      {policies === null && !error && <p className="status">{tc('loading')}</p>}
      {policies?.length === 0 && <p>{t('retention.empty')}</p>}
      {policies && policies.length > 0 && (
        <table className="retention" aria-label={t('retention.caption')}>
          <thead>
            <tr>
              <th scope="col">{t('retention.columns.controller')}</th>
              <th scope="col">{t('retention.columns.class')}</th>
              <th scope="col">{t('retention.columns.days')}</th>
              <th scope="col">{t('retention.columns.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {policies.map((p) => (
              <tr key={`${p.controllerId}/${p.class}`}>
                <td>{names.controller(p.controllerId)}</td>
                <td>{p.class}</td>
                <td>{p.days}</td>
                <td>{dateTime(p.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <form className="filters retention-form" onSubmit={submit} aria-label={t('retention.form')} aria-busy={busy}>
        <div className="field">
          <label htmlFor={`${id}-controller`}>{t('retention.controller')}</label>
          <select id={`${id}-controller`} value={controllerId} onChange={(e) => setControllerId(e.target.value)} required>
            {!controllerId && <option value="" />}
            {controllers.map((c) => (
              <option key={c} value={c}>
                {names.controller(c)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-class`}>{t('retention.class')}</label>
          <input
            id={`${id}-class`}
            value={cls}
            onChange={(e) => setCls(e.target.value)}
            list={`${id}-classes`}
            pattern={CLASS_PATTERN}
            maxLength={32}
            required
            autoComplete="off"
            spellCheck={false}
            aria-describedby={`${id}-class-hint`}
          />
          <datalist id={`${id}-classes`}>
            {classes.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-days`}>{t('retention.days')}</label>
          <input
            id={`${id}-days`}
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_DAYS}
            step={1}
            value={days}
            onChange={(e) => setDays(e.target.value)}
            required
            aria-describedby={`${id}-days-hint`}
          />
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !controllerId.trim() || !days}>
            {busy ? t('retention.busy') : t('retention.submit')}
          </button>
        </div>
        <p id={`${id}-class-hint`} className="hint field wide">
          {t('retention.classHint')}
        </p>
        <p id={`${id}-days-hint`} className="hint field wide">
          {t('retention.daysHint')}
        </p>
      </form>
      <p className="status" role="status" aria-live="polite">
        {status}
      </p>

      {asking && (
        <ConfirmDialog
          title={t('retention.confirmHeading')}
          confirm={t('retention.confirm')}
          onConfirm={confirm}
          onClose={() => {
            setAsking(null);
            setStatus(t('retention.cancelled'));
          }}
        >
          <p className="danger-note">
            <strong>⚠ {t('retention.wouldShred', { count: asking.answer.wouldShred })}</strong>
          </p>
          <p>
            {asking.answer.previousDays === null
              ? t('retention.confirmTextNew', { controller: names.controller(asking.spec.controllerId), class: asking.spec.class, days: asking.spec.days })
              : t('retention.confirmText', {
                  controller: names.controller(asking.spec.controllerId),
                  class: asking.spec.class,
                  days: asking.spec.days,
                  previous: asking.answer.previousDays,
                })}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
