/**
 * Break-the-glass periods. The auditor sees them all in a table, the unreviewed ones loud; the
 * privacy officer sees those still to review, each with a review form (nobody reviews their own:
 * the server refuses it, and says so).
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { dateTime, masked } from '../../shared/format';
import { shortId, useRoleName, type ActorView } from './AuditParts';
import { useNames } from '../../shared/session';
import { ErrorText } from '../../shared/components/ErrorText';

type Period = NonNullable<paths['/api/v1/break-glass']['get']['responses'][200]['content']['application/json']['periods']>[number];

/** who opened or reviewed a period: "anna (nurse)", by the name the server answers with, else the log's, else the account id */
function Who({
  userId,
  username,
  role: givenRole,
  names,
  inline = false,
}: {
  userId: string | undefined | null;
  username?: string | null;
  role?: string | null;
  names?: ReadonlyMap<string, ActorView>;
  inline?: boolean;
}) {
  const roleName = useRoleName();
  const actor = userId ? names?.get(userId) : undefined;
  const name = username ?? actor?.name;
  if (!name) return <code title={userId ?? undefined}>{shortId(userId)}</code>;
  const role = roleName(givenRole ?? actor?.role);
  return (
    <>
      <span title={userId ?? undefined}>{name}</span>
      {role && (inline ? ` (${role})` : <span className="hint block">{role}</span>)}
    </>
  );
}

function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/**
 * @param review the privacy officer's view: unreviewed periods only, with a review form each
 * @param names who the users are, by user id (an auditor learns it from the log's break-glass.start entries)
 */
export function AuditBreakGlass({ review = false, names }: { review?: boolean; names?: ReadonlyMap<string, ActorView> }) {
  const { t } = useTranslation('audit');
  const { t: tc } = useTranslation();
  const [periods, setPeriods] = useState<Period[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState('');
  const now = useNow();
  const orgs = useNames();

  const load = useCallback(async () => {
    setError(null);
    const { data, error: failure } = await api.GET('/api/v1/break-glass', { params: { query: review ? { unreviewed: true } : {} } });
    if (!data) return setError(errorOf(failure));
    setPeriods(data.periods ?? []);
  }, [review]);

  useEffect(() => {
    void load();
  }, [load]);

  const unreviewed = periods?.filter((p) => !p.reviewedAt).length ?? 0;
  return (
    <div className="break-glass-periods">
      <ErrorText error={error} />
      <p className="status" aria-live="polite">
        {status ||
          (periods === null
            ? error
              ? ''
              : tc('loading')
            : periods.length === 0
              ? t(review ? 'breakGlass.emptyUnreviewed' : 'breakGlass.empty')
              : t('breakGlass.count', { count: periods.length, unreviewed }))}
      </p>
      {periods && periods.length > 0 && !review && (
        <div className="table-scroll">
          <table className="audit-table">
            <thead>
              <tr>
                <th scope="col">{t('breakGlass.columns.who')}</th>
                <th scope="col">{t('breakGlass.columns.region')}</th>
                <th scope="col">{t('breakGlass.columns.reason')}</th>
                <th scope="col">{t('breakGlass.columns.started')}</th>
                <th scope="col">{t('breakGlass.columns.expires')}</th>
                <th scope="col">{t('breakGlass.columns.review')}</th>
              </tr>
            </thead>
            <tbody>
              {periods.map((p, i) => (
                <tr key={p.id ?? i} className={p.reviewedAt ? undefined : 'break-glass-row'}>
                  <td>
                    <Who userId={p.userId} username={p.username} role={p.role} names={names} />
                  </td>
                  <td>{orgs.controller(p.controllerId)}</td>
                  <td className="reason">{p.reason ? masked(p.reason) : '—'}</td>
                  <td>{dateTime(p.startedAt)}</td>
                  <td>
                    {dateTime(p.expiresAt)}
                    {p.expiresAt && Date.parse(p.expiresAt) > now && <strong className="break-glass-tag block">{t('breakGlass.active')}</strong>}
                  </td>
                  <td>
                    {p.reviewedAt ? (
                      <>
                        <span className="outcome-ok">✓ {t('breakGlass.reviewed', { when: dateTime(p.reviewedAt) })}</span>
                        {p.reviewedBy && (
                          <span className="block">
                            {t('breakGlass.reviewedBy')} <Who userId={p.reviewedBy} username={p.reviewedByName} names={names} inline />
                          </span>
                        )}
                        {p.reviewNote && <span className="hint block">“{masked(p.reviewNote)}”</span>}
                      </>
                    ) : (
                      <strong className="break-glass-tag">⚠ {t('breakGlass.notReviewed')}</strong>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {periods && periods.length > 0 && review && (
        <ul className="review-list">
          {periods.map((p, i) => (
            <li key={p.id ?? i}>
              <ReviewCard
                period={p}
                names={names}
                active={Boolean(p.expiresAt && Date.parse(p.expiresAt) > now)}
                onReviewed={() => {
                  setStatus(t('breakGlass.done'));
                  setPeriods((ps) => (ps ?? []).filter((x) => x.id !== p.id));
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ReviewCard({ period, names, active, onReviewed }: { period: Period; names?: ReadonlyMap<string, ActorView>; active: boolean; onReviewed: () => void }) {
  const { t } = useTranslation('audit');
  const orgs = useNames();
  const id = useId();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!period.id || !note.trim()) return;
    setBusy(true);
    setError(null);
    const { data, error: failure } = await api.POST('/api/v1/break-glass/{id}/review', { params: { path: { id: period.id } }, body: { note: note.trim() } });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    onReviewed();
  }

  return (
    <article className="card break-glass-card" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        <strong className="break-glass-tag">⚠ {t('breakGlass.notReviewed')}</strong> {dateTime(period.startedAt)}
        {active && <strong className="break-glass-tag"> · {t('breakGlass.active')}</strong>}
      </h3>
      <dl className="facts">
        <dt>{t('breakGlass.columns.who')}</dt>
        <dd>
          <Who userId={period.userId} username={period.username} role={period.role} names={names} inline />
        </dd>
        <dt>{t('breakGlass.columns.region')}</dt>
        <dd>{orgs.controller(period.controllerId)}</dd>
        <dt>{t('breakGlass.columns.started')}</dt>
        <dd>{dateTime(period.startedAt)}</dd>
        <dt>{t('breakGlass.columns.expires')}</dt>
        <dd>{dateTime(period.expiresAt)}</dd>
        <dt>{t('breakGlass.columns.reason')}</dt>
        <dd className="reason">{period.reason ? masked(period.reason) : '—'}</dd>
      </dl>
      <form onSubmit={submit}>
        <label htmlFor={`${id}-note`}>{t('breakGlass.note')}</label>
        <textarea id={`${id}-note`} value={note} onChange={(e) => setNote(e.target.value)} rows={2} maxLength={2000} required aria-describedby={`${id}-nh`} />
        <p id={`${id}-nh`} className="hint">
          {t('breakGlass.noteHint')}
        </p>
        <ErrorText error={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !note.trim()}>
            {t('breakGlass.submit')}
          </button>
        </div>
      </form>
    </article>
  );
}
