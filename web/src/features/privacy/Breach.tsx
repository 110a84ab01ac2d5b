/**
 * The personal data breach report (docs/breach.md, GDPR art. 33): the officer names one scope (a
 * key, a controller, a storage prefix or an account) and an optional window, and the server counts,
 * per controller in the officer's reach, what it exposed. Counts only: the list of affected persons
 * for art. 34 notices is made on the host (`callvault breach report --subjects FILE`) and never
 * travels over HTTP, so a stolen session cannot carry it out.
 *
 * The server's report is in English; what is shown here is put together from its numbers in the
 * page's language, and the IMY fields the report leaves to the officer are matched to their
 * translations by their text (one the page does not know is shown as the server wrote it).
 */
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { ErrorText } from '../../shared/components/ErrorText';
import { dateTime, dayStart } from '../../shared/format';
import { useNames, useSession } from '../../shared/session';

type Report = paths['/api/v1/breach/report']['post']['responses'][200]['content']['application/json'];
type ReportRequest = paths['/api/v1/breach/report']['post']['requestBody']['content']['application/json'];
type ControllerBreach = Report['controllers'][number];
type Kind = 'controller' | 'key' | 'blobPrefix' | 'user';
const KINDS: readonly Kind[] = ['controller', 'key', 'blobPrefix', 'user'];
const MAX_LENGTH: Record<Kind, number> = { controller: 200, key: 200, blobPrefix: 500, user: 200 };

/** the IMY fields the report leaves to the officer (src/breach/report.ts IMY_LEFT_FOR_DPO), by their English text */
const LEFT_FOR_DPO: Record<string, string> = {
  'when the breach happened and when it was discovered': 'when',
  'how it happened (the nature of the breach) and whether it is over': 'how',
  'likely consequences for the data subjects': 'consequences',
  'measures taken or proposed to address it and mitigate its effects': 'measures',
  'whether and when the data subjects were informed (art. 34): `--subjects` writes their list on the host': 'informed',
  "the controller's contact person and data protection officer": 'contact',
  'whether other countries or supervisory authorities are concerned': 'countries',
};

export function Breach() {
  const { t } = useTranslation('privacy');
  const { user } = useSession();
  const names = useNames();
  const id = useId();
  const [kind, setKind] = useState<Kind>('controller');
  const [target, setTarget] = useState(user.controllerId ?? '');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [report, setReport] = useState<Report | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const value = target.trim();
    if (!value) return;
    // whole days: from the first day's start to the last day's end
    const body: ReportRequest = { [kind]: value, from: dayStart(from), to: dayStart(to, 1) };
    setBusy(true);
    setError(null);
    // a report of another scope is not left standing under a refusal
    setReport(null);
    const { data, error: failure } = await api.POST('/api/v1/breach/report', { body });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    setReport(data);
  }

  const windowWord = kind === 'user' ? 'access' : 'call';
  return (
    <>
      <p>{t('breach.intro')}</p>
      <form className="filters breach-form" onSubmit={submit} aria-label={t('breach.form')} aria-busy={busy} autoComplete="off">
        <div className="field">
          <label htmlFor={`${id}-kind`}>{t('breach.kind')}</label>
          <select
            id={`${id}-kind`}
            value={kind}
            onChange={(e) => {
              const next = e.target.value as Kind;
              setKind(next);
              setTarget(next === 'controller' ? (user.controllerId ?? '') : '');
            }}
          >
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`breach.kinds.${k}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-target`}>{t(`breach.target.${kind}`)}</label>
          {kind === 'controller' && names.controllers.length > 0 ? (
            // a controller is chosen by its name
            <select id={`${id}-target`} value={target} onChange={(e) => setTarget(e.target.value)} required aria-describedby={`${id}-kind-hint`}>
              {!names.controllers.some((c) => c.id === target) && <option value={target}>{target}</option>}
              {names.controllers.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={`${id}-target`}
              value={target}
              onChange={(e) => setTarget(e.target.value)}
              maxLength={MAX_LENGTH[kind]}
              required
              spellCheck={false}
              aria-describedby={`${id}-kind-hint`}
            />
          )}
        </div>
        <div className="field">
          <label htmlFor={`${id}-from`}>{t(`breach.from.${windowWord}`)}</label>
          <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} max={to || undefined} aria-describedby={`${id}-window-hint`} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>{t(`breach.to.${windowWord}`)}</label>
          <input id={`${id}-to`} type="date" value={to} onChange={(e) => setTo(e.target.value)} min={from || undefined} aria-describedby={`${id}-window-hint`} />
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !target.trim()}>
            {busy ? t('breach.busy') : t('breach.submit')}
          </button>
        </div>
        <p id={`${id}-kind-hint`} className="hint field wide">
          {t(`breach.hints.${kind}`)}
        </p>
        <p id={`${id}-window-hint`} className="hint field wide">
          {t('breach.windowHint')}
        </p>
      </form>
      <ErrorText error={error} />
      <p className="status" role="status" aria-live="polite">
        {busy ? t('breach.busy') : report ? t('breach.done', { count: report.totals.recordings }) : ''}
      </p>
      {report && <ReportView report={report} />}
      <p className="hint breach-subjects">
        {t('breach.subjects.before')} <code>callvault breach report --subjects FILE</code>, {t('breach.subjects.after')}
      </p>
    </>
  );
}

function ReportView({ report }: { report: Report }) {
  const { t } = useTranslation('privacy');
  const names = useNames();
  const s = report.scope;
  const named = s.kind === 'key' ? s.keyId : s.kind === 'controller' ? names.controller(s.controllerId) : s.kind === 'blob-prefix' ? s.blobPrefix : s.username;
  const window =
    s.from || s.to
      ? t('breach.window.between', { from: s.from ? dateTime(s.from) : t('breach.window.start'), to: s.to ? dateTime(s.to) : t('breach.window.now') })
      : t('breach.window.any');

  function save() {
    const blob = new Blob([`${JSON.stringify(report, null, 2)}\n`], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `breach-report-${report.reportId}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  return (
    <div className="breach-report">
      <p>
        {t(`breach.scope.${s.kind}`, { name: named ?? '—' })} · {t(s.kind === 'user' ? 'breach.window.access' : 'breach.window.call', { window })}
      </p>
      <p className="hint">
        {t('breach.reportId', { id: report.reportId, when: dateTime(report.generatedAt) })}{' '}
        <button type="button" onClick={save}>
          {t('breach.download')}
        </button>
      </p>
      {report.controllers.length === 0 && <p>{t('breach.nothing')}</p>}
      {report.controllers.map((c) => (
        <ControllerView key={c.controllerId} c={c} />
      ))}
    </div>
  );
}

function ControllerView({ c }: { c: ControllerBreach }) {
  const { t } = useTranslation('privacy');
  const names = useNames();
  const id = useId();
  const { personnummer: pn, phone } = c.persons;
  const persons = c.persons.atLeast === c.persons.atMost ? String(c.persons.atLeast) : t('breach.persons.between', { min: c.persons.atLeast, max: c.persons.atMost });
  const identifiers = (['personnummer', 'phone', 'transcript_personnummer', 'transcript_phone'] as const).filter((k) => c.categories.identifiers[k] !== undefined);
  const keys = Object.entries(c.byKey);
  const served = Object.entries(c.served ?? {});

  return (
    <article className="breach-controller" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>{t('breach.controller', { id: names.controller(c.controllerId) })}</h3>
      <dl className="facts">
        <dt>{t('breach.facts.recordings')}</dt>
        <dd>
          {c.recordings}
          {c.noLongerStored > 0 && ` ${t('breach.facts.noLongerStored', { count: c.noLongerStored })}`}
        </dd>
        <dt>{t('breach.facts.persons')}</dt>
        <dd>{persons}</dd>
        <dt>{t('breach.facts.exposure')}</dt>
        <dd>
          <strong>{t(`breach.exposure.${c.exposure.level}.label`)}</strong>: {t(`breach.exposure.${c.exposure.level}.text`)}{' '}
          {t('breach.facts.readable', { count: c.exposure.recordingsReadable })}
        </dd>
        <dt>{t('breach.facts.callTime')}</dt>
        <dd>{callTime(t, c)}</dd>
        {c.accessTime && (
          <>
            <dt>{t('breach.facts.accessTime')}</dt>
            <dd>{t('breach.span', { first: dateTime(c.accessTime.first), last: dateTime(c.accessTime.last) })}</dd>
          </>
        )}
        {served.length > 0 && (
          <>
            <dt>{t('breach.facts.served')}</dt>
            <dd>
              {served.map(([action, n]) => t('breach.served', { action: t(`breach.actions.${action.replace('recording.', '')}`, { defaultValue: action }), count: n })).join('; ')}
            </dd>
          </>
        )}
        {keys.length > 0 && (
          <>
            <dt>{t('breach.facts.byKey')}</dt>
            <dd>
              {keys.map(([key, n], i) => (
                <span key={key}>
                  {i > 0 && '; '}
                  <code>{key}</code>: {n}
                </span>
              ))}
            </dd>
          </>
        )}
      </dl>

      <table className="breach-persons" aria-label={t('breach.persons.caption', { controller: names.controller(c.controllerId) })}>
        <thead>
          <tr>
            <th scope="col">{t('breach.persons.kind')}</th>
            <th scope="col">{t('breach.persons.inMetadata')}</th>
            <th scope="col">{t('breach.persons.spokenInCalls')}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">{t('breach.persons.personnummer')}</th>
            <td>{pn.inMetadata}</td>
            <td>{pn.spokenInCalls}</td>
          </tr>
          <tr>
            <th scope="row">{t('breach.persons.phone')}</th>
            <td>{phone.inMetadata}</td>
            <td>{phone.spokenInCalls}</td>
          </tr>
        </tbody>
      </table>
      <p className="hint">{t('breach.persons.note')}</p>

      <h4>{t('breach.categories.heading')}</h4>
      <ul>
        <li>{t('breach.categories.audio', { count: c.categories.audio })}</li>
        <li>{t('breach.categories.transcripts', { count: c.categories.transcripts })}</li>
        {identifiers.map((k) => (
          <li key={k}>{t(`breach.categories.identifiers.${k}`, { count: c.categories.identifiers[k] ?? 0 })}</li>
        ))}
      </ul>

      <h4>{t('breach.imy.heading')}</h4>
      <dl className="facts breach-imy">
        {Object.entries(c.imy.filled).map(([field, value]) => (
          <ImyField key={field} field={field} value={value} c={c} />
        ))}
      </dl>
      <h4>{t('breach.imy.leftHeading')}</h4>
      <ul className="breach-left">
        {c.imy.leftForDpo.map((text) => {
          const known = LEFT_FOR_DPO[text];
          return known ? (
            <li key={text}>{t(`breach.imy.left.${known}`)}</li>
          ) : (
            <li key={text} lang="en">
              {text}
            </li>
          );
        })}
      </ul>
    </article>
  );
}

type T = ReturnType<typeof useTranslation<'privacy'>>['t'];

function callTime(t: T, c: ControllerBreach): string {
  const span = c.callTime.first === null ? t('breach.unknownTime') : t('breach.span', { first: dateTime(c.callTime.first), last: dateTime(c.callTime.last) });
  return c.callTime.withoutStart > 0 ? `${span} ${t('breach.withoutStart', { count: c.callTime.withoutStart })}` : span;
}

/** one field of IMY's form, its value in the page's language from the report's numbers (a field the page does not know: as the server wrote it) */
function ImyField({ field, value, c }: { field: string; value: string | string[]; c: ControllerBreach }) {
  const { t, i18n } = useTranslation('privacy');
  const known = i18n.exists(`breach.imy.fields.${field}`, { ns: 'privacy' });
  let shown: string | string[] = value;
  if (field === 'categoriesOfDataSubjects') shown = t('breach.imy.values.subjects');
  else if (field === 'approximateNumberOfDataSubjects')
    shown = c.persons.atLeast === c.persons.atMost ? String(c.persons.atLeast) : t('breach.imy.values.between', { min: c.persons.atLeast, max: c.persons.atMost });
  else if (field === 'categoriesOfPersonalData') {
    const kinds = [t('breach.imy.values.audio')];
    if (c.categories.transcripts > 0) kinds.push(t('breach.imy.values.text', { count: c.categories.transcripts }));
    if (c.categories.identifiers.personnummer || c.categories.identifiers.transcript_personnummer) kinds.push(t('breach.imy.values.personnummer'));
    if (c.categories.identifiers.phone || c.categories.identifiers.transcript_phone) kinds.push(t('breach.imy.values.phone'));
    shown = kinds;
  } else if (field === 'approximateNumberOfRecords') {
    const records = [t('breach.imy.values.recordings', { count: c.recordings })];
    if (c.categories.transcripts > 0) records.push(t('breach.imy.values.transcripts', { count: c.categories.transcripts }));
    shown = records.join(', ');
  } else if (field === 'timeSpanOfTheData') shown = callTime(t, c);
  else if (field === 'dataProtectedAgainstReading') shown = t(`breach.imy.values.protected.${c.exposure.level}`);
  return (
    <>
      <dt>{known ? t(`breach.imy.fields.${field}`) : field}</dt>
      <dd lang={known ? undefined : 'en'}>
        {Array.isArray(shown) ? (
          <ul>
            {shown.map((v) => (
              <li key={v}>{v}</li>
            ))}
          </ul>
        ) : (
          shown
        )}
      </dd>
    </>
  );
}
