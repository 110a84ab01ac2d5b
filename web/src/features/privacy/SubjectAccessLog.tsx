/**
 * A patient's access log: every logged event on the person's recordings and every search for
 * the person, for an auditor or a privacy officer. Given a `subject` (the privacy officer's page
 * has found one already) it asks for nothing more; otherwise it has its own form. Either way the
 * identifier stays in memory and goes to the server in a POST body.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { dateTime } from '../../shared/format';
import { SubjectForm, type Subject } from './SubjectForm';
import { AuditAction, AuditActor, AuditOutcome, AuditPurpose, AuditRendition, shortId } from '../audit/AuditParts';
import { useNames } from '../../shared/session';
import { ErrorText } from '../../shared/components/ErrorText';

type Log = paths['/api/v1/audit/subject-access-log']['post']['responses'][200]['content']['application/json'];

export function SubjectAccessLog({ subject }: { subject?: Subject }) {
  const { t } = useTranslation('audit');
  const names = useNames();
  const [log, setLog] = useState<Log | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  // another person: what was shown belongs to the previous one (state adjusted while rendering,
  // as React advises for a prop change, rather than in an effect that would show it for a frame)
  const [shownFor, setShownFor] = useState(subject);
  if (shownFor !== subject) {
    setShownFor(subject);
    setLog(null);
    setError(null);
  }

  async function load(s: Subject) {
    setBusy(true);
    setError(null);
    setLog(null);
    const { data, error: failure } = await api.POST('/api/v1/audit/subject-access-log', { body: s });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    setLog(data);
  }

  const recordings = log?.recordings ?? [];
  const accesses = log?.accesses ?? [];
  return (
    <div className="subject-access-log">
      <p className="hint">{t('subject.intro')}</p>
      {subject ? (
        <button type="button" className="primary" disabled={busy} onClick={() => void load(subject)}>
          {t('subject.show')}
        </button>
      ) : (
        <SubjectForm submitLabel={t('subject.show')} busy={busy} onSubmit={(s) => void load(s)} onClear={() => setLog(null)} onEdit={() => setLog(null)} />
      )}
      <ErrorText error={error} />
      <p className="status" aria-live="polite">
        {busy ? t('subject.busy') : log ? t('subject.summary', { recordings: recordings.length, events: accesses.length }) : ''}
      </p>
      {log && (
        <>
          <h3>{t('subject.recordings')}</h3>
          {recordings.length === 0 ? (
            <p>{t('subject.noRecordings')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('subject.columns.started')}</th>
                  <th scope="col">{t('subject.columns.id')}</th>
                  <th scope="col">{t('subject.columns.controller')}</th>
                  <th scope="col">{t('subject.columns.state')}</th>
                </tr>
              </thead>
              <tbody>
                {recordings.map((r) => (
                  <tr key={r.id}>
                    <td>{dateTime(r.startedAt)}</td>
                    <td>
                      <code title={r.id}>{shortId(r.id)}</code>
                    </td>
                    <td>{names.controller(r.controllerId)}</td>
                    <td>{t(`subject.state.${r.state}`, { when: dateTime(r.destroyedAt) })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('subject.events')}</h3>
          {accesses.length === 0 ? (
            <p>{t('subject.noEvents')}</p>
          ) : (
            <div className="table-scroll">
              <table className="audit-table">
                <thead>
                  <tr>
                    <th scope="col">{t('subject.columns.when')}</th>
                    <th scope="col">{t('subject.columns.who')}</th>
                    <th scope="col">{t('subject.columns.action')}</th>
                    <th scope="col">{t('subject.columns.outcome')}</th>
                    <th scope="col">{t('subject.columns.recording')}</th>
                    <th scope="col">{t('subject.columns.rendition')}</th>
                    <th scope="col">{t('subject.columns.purpose')}</th>
                  </tr>
                </thead>
                <tbody>
                  {accesses.map((a, i) => (
                    <tr
                      key={a.index ?? i}
                      className={a.breakGlass ? 'break-glass-row' : (a.outcome && a.outcome !== 'success') || a.detail?.rendition === 'original' ? 'flagged' : undefined}
                    >
                      <td>{dateTime(a.time)}</td>
                      <td>
                        <AuditActor actor={a.actor} />
                      </td>
                      <td>
                        <AuditAction action={a.action} />
                      </td>
                      <td>
                        <AuditOutcome outcome={a.outcome} />
                      </td>
                      <td>{a.recordingId ? <code title={a.recordingId}>{shortId(a.recordingId)}</code> : '—'}</td>
                      <td>{a.detail?.rendition ? <AuditRendition rendition={a.detail.rendition} /> : '—'}</td>
                      <td>
                        <AuditPurpose purpose={a.purpose} text={a.purposeText} breakGlass={a.breakGlass} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </div>
  );
}
