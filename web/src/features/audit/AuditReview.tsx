/**
 * The log review (loggkontroll) on the auditor's page: pick a month, draw its sample once, check
 * each sampled access (who, when, what, which recording, the purpose, why it was chosen) with an
 * outcome and a note, and read the month's report.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { dateTime, masked } from '../../shared/format';
import { ErrorText } from '../../shared/components/ErrorText';
import { AuditAction, AuditActor, AuditPurpose, AuditRendition, shortId } from './AuditParts';
import { useNames } from '../../shared/session';

type Queue = paths['/api/v1/audit/review/{period}']['get']['responses'][200]['content']['application/json'];
type Sample = Queue['samples'][number];
type Report = paths['/api/v1/audit/review/{period}/report']['get']['responses'][200]['content']['application/json'];
type Outcome = NonNullable<Sample['outcome']>;

const OUTCOMES: readonly Outcome[] = ['justified', 'unjustified', 'unclear'];

/** this month as a month input gives it, YYYY-MM (the browser's time zone; the server's months are Stockholm's) */
function thisMonth(): string {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
}

function useChosenBy(): (reason: string) => string {
  const { t } = useTranslation('review');
  return (reason) => {
    if (reason.startsWith('alert:')) return t('chosen.alert', { rule: reason.slice('alert:'.length) });
    const known = ['random', 'break-glass', 'original', 'role:dpo', 'role:operator'] as const;
    return (known as readonly string[]).includes(reason) ? t(`chosen.${reason as (typeof known)[number]}`) : reason;
  };
}

export function AuditReview() {
  const { t } = useTranslation('review');
  const { t: tc } = useTranslation();
  const id = useId();
  const [period, setPeriod] = useState(thisMonth);
  const [queue, setQueue] = useState<Queue | null>(null);
  const [count, setCount] = useState(20);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState('');
  const [report, setReport] = useState<Report | null>(null);

  const load = useCallback(async (month: string) => {
    setError(null);
    setQueue(null);
    setReport(null);
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) return;
    const { data, error: failure } = await api.GET('/api/v1/audit/review/{period}', { params: { path: { period: month } } });
    if (!data) return setError(errorOf(failure));
    setQueue(data);
  }, []);

  useEffect(() => {
    void load(period);
  }, [load, period]);

  const loadReport = useCallback(async () => {
    const { data, error: failure } = await api.GET('/api/v1/audit/review/{period}/report', { params: { path: { period } } });
    if (!data) return setError(errorOf(failure));
    setReport(data);
  }, [period]);

  async function draw(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setStatus('');
    const { data, error: failure } = await api.POST('/api/v1/audit/review/{period}/sample', { params: { path: { period } }, body: { count } });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    setQueue(data);
    setStatus(t('drawn'));
  }

  function recorded(sample: Sample) {
    setQueue((q) => {
      if (!q) return q;
      const samples = q.samples.map((s) => (s.id === sample.id ? sample : s));
      return { ...q, samples, checked: samples.filter((s) => s.outcome).length };
    });
    setStatus(t('saved'));
    if (report) void loadReport();
  }

  const samples = queue?.samples ?? [];
  return (
    <div className="log-review">
      <p className="hint">{t('intro')}</p>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-month`}>{t('month')}</label>
          <input id={`${id}-month`} type="month" value={period} onChange={(e) => setPeriod(e.target.value)} required />
        </div>
      </div>
      <ErrorText error={error} />
      <p className="status" aria-live="polite">
        {status}
      </p>
      {queue === null ? (
        !error && <p>{tc('loading')}</p>
      ) : queue.seed === null ? (
        <form className="filters" onSubmit={draw} aria-label={t('draw')}>
          <p>{t('none')}</p>
          <div className="field">
            <label htmlFor={`${id}-count`}>{t('count')}</label>
            <input id={`${id}-count`} type="number" min={1} max={1000} value={count} onChange={(e) => setCount(Number(e.target.value))} required />
          </div>
          <div className="actions">
            <button type="submit" className="primary" disabled={busy || !(count >= 1)}>
              {t('draw')}
            </button>
          </div>
        </form>
      ) : (
        <>
          <p className="hint">{t('drawnBy', { when: dateTime(queue.drawnAt), who: queue.drawnBy ?? '—', accesses: queue.method?.accesses ?? 0, seed: queue.seed })}</p>
          <p className="review-progress">
            <progress id={`${id}-progress`} max={samples.length} value={queue.checked} aria-label={t('progressLabel')} />{' '}
            <strong>{t('progress', { checked: queue.checked, total: samples.length })}</strong>
          </p>
          <ul className="review-list">
            {samples.map((s, i) => (
              <li key={s.id}>
                <SampleCard sample={s} n={i + 1} total={samples.length} onRecorded={recorded} />
              </li>
            ))}
          </ul>
          <section aria-labelledby={`${id}-report`}>
            <div className="page-head">
              <h3 id={`${id}-report`}>{t('report.heading')}</h3>
              <button type="button" onClick={() => void loadReport()}>
                {report ? t('report.refresh') : t('report.show')}
              </button>
            </div>
            {report && <ReportView report={report} />}
          </section>
        </>
      )}
    </div>
  );
}

function SampleCard({ sample, n, total, onRecorded }: { sample: Sample; n: number; total: number; onRecorded: (s: Sample) => void }) {
  const { t } = useTranslation('review');
  const names = useNames();
  const chosenBy = useChosenBy();
  const id = useId();
  const [note, setNote] = useState(sample.note ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function record(outcome: Outcome) {
    setBusy(true);
    setError(null);
    const { data, error: failure } = await api.POST('/api/v1/audit/review/{period}/samples/{id}', {
      params: { path: { period: sample.period, id: sample.id } },
      body: { outcome, note: note.trim() },
    });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    onRecorded(data);
  }

  const flagged = sample.chosenBy !== 'random';
  return (
    <article className={`card review-card${flagged ? ' flagged-card' : ''}`} aria-labelledby={`${id}-h`}>
      <h4 id={`${id}-h`}>
        {t('access', { n, total })} · {sample.outcome ? t(`outcomes.${sample.outcome}`) : t('notChecked')}
      </h4>
      <dl className="facts">
        <dt>{t('columns.who')}</dt>
        <dd>
          <AuditActor actor={{ name: sample.user ?? undefined, id: sample.userId ?? undefined, role: sample.role ?? undefined }} />
        </dd>
        <dt>{t('columns.when')}</dt>
        <dd>{dateTime(sample.time)}</dd>
        <dt>{t('columns.what')}</dt>
        <dd>
          <AuditAction action={sample.action} />
          <AuditRendition rendition={sample.rendition} />
        </dd>
        <dt>{t('columns.recording')}</dt>
        <dd>
          <code title={sample.recordingId ?? undefined}>{shortId(sample.recordingId)}</code>
          {sample.controllerId && <span className="hint"> · {names.controller(sample.controllerId)}</span>}
        </dd>
        <dt>{t('columns.purpose')}</dt>
        <dd>
          <AuditPurpose purpose={sample.purpose} text={sample.purposeText} breakGlass={sample.breakGlass} />
        </dd>
        <dt>{t('columns.why')}</dt>
        <dd>{flagged ? <strong>{chosenBy(sample.chosenBy)}</strong> : chosenBy(sample.chosenBy)}</dd>
        <dt>{t('columns.found')}</dt>
        <dd>
          {sample.outcome ? (
            <>
              <span className={sample.outcome === 'justified' ? 'outcome-ok' : 'outcome-bad'}>
                {t('checkedBy', { outcome: t(`outcomes.${sample.outcome}`), who: sample.reviewedBy ?? '—', when: dateTime(sample.reviewedAt) })}
              </span>
              {sample.note && <span className="hint block">“{masked(sample.note)}”</span>}
            </>
          ) : (
            t('notChecked')
          )}
        </dd>
      </dl>
      <form onSubmit={(e) => e.preventDefault()}>
        <label htmlFor={`${id}-note`}>{t('note')}</label>
        <textarea id={`${id}-note`} value={note} onChange={(e) => setNote(e.target.value)} rows={2} maxLength={2000} aria-describedby={`${id}-nh`} />
        <p id={`${id}-nh`} className="hint">
          {t('noteHint')}
        </p>
        <ErrorText error={error} />
        <div className="actions">
          {OUTCOMES.map((o) => (
            <button key={o} type="button" className={o === 'justified' ? 'primary' : undefined} disabled={busy || note.trim().length < 3} onClick={() => void record(o)}>
              {t(`outcomes.${o}`)}
            </button>
          ))}
        </div>
      </form>
    </article>
  );
}

function ReportView({ report }: { report: Report }) {
  const { t } = useTranslation('review');
  const chosenBy = useChosenBy();
  const list = (counts: Record<string, number>, name: (k: string) => string) =>
    Object.entries(counts)
      .map(([k, v]) => `${name(k)}: ${v}`)
      .join(', ') || '—';
  return (
    <>
      <dl className="facts review-report">
        <dt>{t('report.accesses')}</dt>
        <dd>{report.accesses}</dd>
        <dt>{t('report.sampled')}</dt>
        <dd>{report.sampled}</dd>
        <dt>{t('report.how')}</dt>
        <dd>{list(report.chosenBy, chosenBy)}</dd>
        <dt>{t('report.checked')}</dt>
        <dd>{t('progress', { checked: report.checked, total: report.sampled })}</dd>
        <dt>{t('report.outcomes')}</dt>
        <dd>{list(report.outcomes, (k) => ((OUTCOMES as readonly string[]).includes(k) ? t(`outcomes.${k as Outcome}`) : k))}</dd>
        <dt>{t('report.reviewers')}</dt>
        <dd>{report.reviewers.map((r) => `${r.reviewer} (${r.checked})`).join(', ') || t('report.nobody')}</dd>
        {report.drawn && (
          <>
            <dt>{t('report.reproduced')}</dt>
            <dd className={report.drawn.reproduced ? undefined : 'outcome-bad'}>{report.drawn.reproduced ? t('report.reproducedYes') : t('report.reproducedNo')}</dd>
          </>
        )}
      </dl>
      <h4>{t('report.alerts')}</h4>
      {report.alerts.length === 0 ? (
        <p>{t('report.noAlerts')}</p>
      ) : (
        <div className="table-scroll">
          <table className="audit-table review-alerts">
            <thead>
              <tr>
                <th scope="col">{t('report.alertColumns.rule')}</th>
                <th scope="col">{t('report.alertColumns.raised')}</th>
                <th scope="col">{t('report.alertColumns.open')}</th>
                <th scope="col">{t('report.alertColumns.closed')}</th>
                <th scope="col">{t('report.alertColumns.outcomes')}</th>
              </tr>
            </thead>
            <tbody>
              {report.alerts.map((a) => (
                <tr key={a.rule} className={a.open > 0 ? 'flagged' : undefined}>
                  <td>
                    <code>{a.rule}</code>
                  </td>
                  <td className="num">{a.raised}</td>
                  <td className="num">{a.open}</td>
                  <td className="num">{a.closed}</td>
                  <td>{list(a.outcomes, (k) => k)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
