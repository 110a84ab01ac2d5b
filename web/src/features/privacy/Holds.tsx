/**
 * Legal holds (docs/retention.md): the holds placed for the officer's controllers, active and
 * released, a form to place one, and a release that asks for a reason. A hold on a person is
 * shown as "a person" only: the server keeps the personnummer or phone number as a keyed digest
 * and never answers it. The number typed to place one lives in this form's state, goes to the
 * server in the POST body (never in the address) and is cleared once the hold is placed.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { ErrorText } from '../../shared/components/ErrorText';
import { Modal } from '../../shared/components/Modal';
import { dateTime, dayStart } from '../../shared/format';
import { useNames } from '../../shared/session';

type Hold = paths['/api/v1/holds']['get']['responses'][200]['content']['application/json']['holds'][number];
type HoldRequest = paths['/api/v1/holds']['post']['requestBody']['content']['application/json'];
type Kind = 'recording' | 'personnummer' | 'phone' | 'agent';
const KINDS: readonly Kind[] = ['recording', 'personnummer', 'phone', 'agent'];
const MIN_TEXT = 3;
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

export function Holds() {
  const { t } = useTranslation('privacy');
  const { t: tc } = useTranslation();
  const [holds, setHolds] = useState<Hold[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState('');
  const [releasing, setReleasing] = useState<Hold | null>(null);

  const load = useCallback(async () => {
    const { data, error: failure } = await api.GET('/api/v1/holds');
    if (!data) return setError(errorOf(failure));
    setError(null);
    // the active ones first, the newest first within each
    setHolds([...data.holds].sort((a, b) => Number(a.releasedAt !== null) - Number(b.releasedAt !== null) || b.createdAt.localeCompare(a.createdAt)));
  }, []);
  useEffect(() => void load(), [load]);

  return (
    <>
      <p>{t('holds.intro')}</p>
      <ErrorText error={error} />
      {holds === null && !error && <p className="status">{tc('loading')}</p>}
      {holds?.length === 0 && <p>{t('holds.empty')}</p>}
      {holds && holds.length > 0 && (
        <table className="holds" aria-label={t('holds.caption')}>
          <thead>
            <tr>
              <th scope="col">{t('holds.columns.state')}</th>
              <th scope="col">{t('holds.columns.covers')}</th>
              <th scope="col">{t('holds.columns.case')}</th>
              <th scope="col">{t('holds.columns.reason')}</th>
              <th scope="col">{t('holds.columns.placed')}</th>
              <th scope="col">{t('holds.columns.released')}</th>
              <th scope="col">{t('holds.columns.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {holds.map((h) => (
              <tr key={h.id}>
                <td>{h.releasedAt ? t('holds.released') : <strong>{t('holds.active')}</strong>}</td>
                <td>
                  <Covers hold={h} />
                </td>
                <td>{h.case}</td>
                <td className="reason">{h.reason}</td>
                <td>{dateTime(h.createdAt)}</td>
                <td className="reason">{h.releasedAt ? t('holds.releasedOn', { when: dateTime(h.releasedAt), reason: h.releaseReason ?? '—' }) : '—'}</td>
                <td>
                  {!h.releasedAt && (
                    <div className="row-actions">
                      <button type="button" onClick={() => setReleasing(h)} aria-label={t('holds.release.label', { case: h.case })}>
                        {t('holds.release.button')}
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="status" role="status" aria-live="polite">
        {status}
      </p>
      <HoldForm
        onPlaced={(message) => {
          setStatus(message);
          void load();
        }}
      />
      {releasing && (
        <ReleaseDialog
          hold={releasing}
          onClose={() => setReleasing(null)}
          onReleased={() => {
            setReleasing(null);
            setStatus(t('holds.release.done', { case: releasing.case }));
            void load();
          }}
        />
      )}
    </>
  );
}

/** what a hold covers, in words: never the person's number, which the server does not answer anyway */
function Covers({ hold }: { hold: Hold }) {
  const { t } = useTranslation('privacy');
  const names = useNames();
  if (hold.kind === 'recording' && hold.recordingId)
    return (
      <>
        {t('holds.covers.recording')} <Link to={`/recordings/${hold.recordingId}`}>{hold.recordingId.slice(0, 8)}…</Link>
      </>
    );
  if (hold.kind === 'personnummer' || hold.kind === 'phone') return t(`holds.covers.${hold.kind}`);
  const window =
    hold.from || hold.to
      ? t('holds.covers.window', { from: hold.from ? dateTime(hold.from) : t('holds.covers.start'), to: hold.to ? dateTime(hold.to) : t('holds.covers.now') })
      : t('holds.covers.anyTime');
  return t('holds.covers.agentWindow', { agent: names.agent(hold.agent), window });
}

function HoldForm({ onPlaced }: { onPlaced: (message: string) => void }) {
  const { t } = useTranslation('privacy');
  const names = useNames();
  const id = useId();
  const [kind, setKind] = useState<Kind>('recording');
  const [recordingId, setRecordingId] = useState('');
  // the person's number: this state only, cleared once the hold is placed
  const [person, setPerson] = useState('');
  const [agent, setAgent] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [caseRef, setCaseRef] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  // an agent is typed by name or id and held by id
  const target = kind === 'recording' ? recordingId.trim() : kind === 'agent' ? names.agentId(agent) : person.trim();
  const ready = target.length > 0 && caseRef.trim().length >= MIN_TEXT && reason.trim().length >= MIN_TEXT;

  function reset() {
    setRecordingId('');
    setPerson('');
    setAgent('');
    setFrom('');
    setTo('');
    setCaseRef('');
    setReason('');
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    const body: HoldRequest = { case: caseRef.trim(), reason: reason.trim() };
    if (kind === 'recording') body.recordingId = target;
    else if (kind === 'personnummer') body.personnummer = target;
    else if (kind === 'phone') body.phone = target;
    else {
      body.agent = target;
      // whole days of call time: from the first day's start to the last day's end
      if (from) body.from = dayStart(from);
      if (to) body.to = dayStart(to, 1);
    }
    setBusy(true);
    setError(null);
    const { data, error: failure } = await api.POST('/api/v1/holds', { body });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    reset();
    onPlaced(t('holds.placed', { case: data.case, count: data.covered }));
  }

  const personLabel = kind === 'phone' ? t('holds.phone') : t('holds.personnummer');
  return (
    <form className="filters hold-form" onSubmit={submit} aria-label={t('holds.form')} aria-busy={busy} autoComplete="off">
      <div className="field">
        <label htmlFor={`${id}-kind`}>{t('holds.kind')}</label>
        <select
          id={`${id}-kind`}
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as Kind);
            // a number typed for one kind is not left behind for another
            setPerson('');
          }}
        >
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`holds.kinds.${k}`)}
            </option>
          ))}
        </select>
      </div>
      {kind === 'recording' && (
        <div className="field">
          <label htmlFor={`${id}-recording`}>{t('holds.recordingId')}</label>
          <input
            id={`${id}-recording`}
            value={recordingId}
            onChange={(e) => setRecordingId(e.target.value)}
            pattern={UUID}
            size={38}
            required
            spellCheck={false}
            aria-describedby={`${id}-recording-hint`}
          />
        </div>
      )}
      {(kind === 'personnummer' || kind === 'phone') && (
        <div className="field">
          <label htmlFor={`${id}-person`}>{personLabel}</label>
          <input
            id={`${id}-person`}
            value={person}
            onChange={(e) => setPerson(e.target.value)}
            inputMode={kind === 'phone' ? 'tel' : 'numeric'}
            autoComplete="off"
            spellCheck={false}
            maxLength={kind === 'personnummer' ? 20 : 40}
            required
            aria-describedby={`${id}-private`}
          />
        </div>
      )}
      {kind === 'agent' && (
        <>
          <div className="field">
            <label htmlFor={`${id}-agent`}>{t('holds.agent')}</label>
            <input
              id={`${id}-agent`}
              value={agent}
              onChange={(e) => setAgent(e.target.value)}
              maxLength={100}
              required
              spellCheck={false}
              list={`${id}-agents`}
              autoComplete="off"
            />
            <datalist id={`${id}-agents`}>
              {names.agents.map((a) => (
                <option key={a.id} value={a.name} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor={`${id}-from`}>{t('holds.from')}</label>
            <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} max={to || undefined} aria-describedby={`${id}-window-hint`} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-to`}>{t('holds.to')}</label>
            <input id={`${id}-to`} type="date" value={to} onChange={(e) => setTo(e.target.value)} min={from || undefined} aria-describedby={`${id}-window-hint`} />
          </div>
        </>
      )}
      {kind === 'recording' && (
        <p id={`${id}-recording-hint`} className="hint field wide">
          {t('holds.recordingIdHint')}
        </p>
      )}
      {(kind === 'personnummer' || kind === 'phone') && (
        <p id={`${id}-private`} className="hint field wide">
          {t('holds.private')}
        </p>
      )}
      {kind === 'agent' && (
        <p id={`${id}-window-hint`} className="hint field wide">
          {t('holds.windowHint')}
        </p>
      )}
      <div className="field">
        <label htmlFor={`${id}-case`}>{t('holds.case')}</label>
        <input id={`${id}-case`} value={caseRef} onChange={(e) => setCaseRef(e.target.value)} minLength={MIN_TEXT} maxLength={200} required aria-describedby={`${id}-text-hint`} />
      </div>
      <div className="field wide">
        <label htmlFor={`${id}-reason`}>{t('holds.reason')}</label>
        <textarea
          id={`${id}-reason`}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          rows={2}
          minLength={MIN_TEXT}
          maxLength={1000}
          required
          className="wide-input"
          aria-describedby={`${id}-text-hint`}
        />
      </div>
      <p id={`${id}-text-hint`} className="hint field wide">
        {t('holds.textHint')}
      </p>
      <div className="field wide">
        <ErrorText error={error} />
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !ready}>
          {busy ? t('holds.busy') : t('holds.submit')}
        </button>
      </div>
    </form>
  );
}

function ReleaseDialog({ hold, onClose, onReleased }: { hold: Hold; onClose: () => void; onReleased: () => void }) {
  const { t } = useTranslation('privacy');
  const { t: tc } = useTranslation();
  const id = useId();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const ready = reason.trim().length >= MIN_TEXT;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    const { data, error: failure } = await api.POST('/api/v1/holds/{id}/release', { params: { path: { id: hold.id } }, body: { reason: reason.trim() } });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    onReleased();
  }

  return (
    <Modal title={t('holds.release.dialog', { case: hold.case })} onClose={() => !busy && onClose()} closable={!busy} tone="danger">
      <p>{t('holds.release.text')}</p>
      <form onSubmit={submit} aria-busy={busy}>
        <label htmlFor={`${id}-reason`}>{t('holds.release.reason')}</label>
        <textarea
          id={`${id}-reason`}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          rows={2}
          minLength={MIN_TEXT}
          maxLength={1000}
          required
          className="wide-input"
          aria-describedby={`${id}-hint`}
        />
        <p id={`${id}-hint`} className="hint">
          {t('holds.textHint')}
        </p>
        <p className="status" aria-live="polite">
          {busy ? t('holds.release.busy') : ''}
        </p>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" className="danger" disabled={busy || !ready}>
            {t('holds.release.submit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
