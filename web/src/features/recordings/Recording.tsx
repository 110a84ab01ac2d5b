/**
 * One recording: what the role may see of it, and the player. Playing starts with the purpose:
 * the server records it and answers with the audio URL the player then uses.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { clock, dateTime, formatPersonnummer, formatPhone, isRedactionLabel, masked, time } from '../../shared/format';
import { useNames, useSession, type Rendition } from '../../shared/session';
import { ErrorText } from '../../shared/components/ErrorText';
import { Modal } from '../../shared/components/Modal';
import { Player } from './Player';
import { useBreakGlass } from './BreakGlass';

type Detail = paths['/api/v1/recordings/{id}']['get']['responses'][200]['content']['application/json'];
type Access = paths['/api/v1/recordings/{id}/access']['post']['responses'][201]['content']['application/json'];
type Identifiers = paths['/api/v1/recordings/{id}/identifiers']['get']['responses'][200]['content']['application/json'];
type AccessBody = NonNullable<paths['/api/v1/recordings/{id}/access']['post']['requestBody']>['content']['application/json'];

export function RecordingPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { t } = useTranslation('recordings');
  const names = useNames();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [asking, setAsking] = useState(false);
  const [access, setAccess] = useState<(Access & { purpose: string }) | null>(null);
  const [ended, setEnded] = useState(false);
  // in clear only while an access stated for the original lasts; the page shows labels otherwise
  const [identifiers, setIdentifiers] = useState<Identifiers | null>(null);

  useEffect(() => {
    void api.GET('/api/v1/recordings/{id}', { params: { path: { id } } }).then(({ data, error: failure }) => {
      if (data) setDetail(data);
      else setError(errorOf(failure));
    });
  }, [id]);

  const accessEnded = useCallback(() => {
    setAccess(null);
    setIdentifiers(null);
    setEnded(true);
  }, []);

  const granted = (a: Access & { purpose: string }) => {
    setAsking(false);
    setEnded(false);
    setAccess(a);
    setIdentifiers(null);
    if (a.identifiersUrl) {
      void api.GET('/api/v1/recordings/{id}/identifiers', { params: { path: { id }, query: { access: a.accessId! } } }).then(({ data, error: failure }) => {
        if (data) setIdentifiers(data);
        else setError(errorOf(failure));
      });
    }
  };

  const when = dateTime(detail?.startedAt ?? detail?.importedAt);
  return (
    <>
      <p>
        {/* back keeps the list's filters and page; opened directly, it goes to the list */}
        <Link
          to="/recordings"
          onClick={(e) => {
            if ((window.history.state as { idx?: number } | null)?.idx) {
              e.preventDefault();
              navigate(-1);
            }
          }}
        >
          ← {t('detail.back')}
        </Link>
      </p>
      <ErrorText error={error} />
      {detail && (
        <>
          <h1>{t('detail.heading', { when })}</h1>
          <dl className="facts">
            <dt>{t('columns.duration')}</dt>
            <dd>{clock((detail.durationMs ?? 0) / 1000)}</dd>
            <dt>{t('columns.direction')}</dt>
            <dd>{detail.direction ? t(detail.direction === 'inbound' ? 'inbound' : 'outbound') : '—'}</dd>
            <dt>{t('columns.region')}</dt>
            <dd>{names.region(detail.region)}</dd>
            <dt>{t('columns.agent')}</dt>
            <dd>{names.agent(detail.agent)}</dd>
            <dt>{t('columns.controller')}</dt>
            <dd>{names.controller(detail.controllerId)}</dd>
            <dt>{t('detail.caller')}</dt>
            <dd>
              <Identifier value={identifiers ? identifiers.caller : detail.caller} format={formatPhone} />
            </dd>
            <dt>{t('detail.personnummer')}</dt>
            <dd>
              <Identifier value={identifiers ? identifiers.personnummer : detail.personnummer} format={formatPersonnummer} />
            </dd>
            {detail.participants && (
              <>
                <dt>{t('detail.participants')}</dt>
                <dd>
                  <ul className="participants">
                    {(identifiers?.participants ?? detail.participants).map((p, i) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: the participants are a fixed list, in the call's order
                      <li key={i}>
                        <Identifier value={p.name} format={(name) => name} /> · <Identifier value={p.phone ?? p.address} format={p.phone ? formatPhone : (a) => a} />
                        {p.channels.length > 0 && <> · {t('detail.channel', { count: p.channels.length, channels: p.channels.join(', ') })}</>}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
            <dt>{t('columns.redaction')}</dt>
            <dd>{detail.redaction ? t(`redaction.${detail.redaction as 'pending'}`) : '—'}</dd>
            <dt>{t('detail.retentionClass')}</dt>
            <dd>{detail.retentionClass}</dd>
            <dt>{t('detail.format')}</dt>
            <dd>
              {detail.format} · {detail.codec} · {detail.sampleRate} Hz · {detail.channels} ch
            </dd>
          </dl>
          {detail.redaction === 'failed' && <p className="warning">{t('detail.flagged')}</p>}
          {ended && (
            <p className="warning" role="status">
              {t('purpose.again')}
            </p>
          )}
          {access ? (
            <>
              <p className={access.breakGlass ? 'break-glass-note' : 'status'} role="status">
                {t('purpose.stated', { purpose: t(`purpose.options.${access.purpose as 'other'}`), until: time(access.expiresAt!) })}
                {access.breakGlass ? ` ${t('breakGlass.inPlay')}` : ''}
              </p>
              <Player
                recordingId={id}
                accessId={access.accessId!}
                audioUrl={access.audioUrl!}
                rendition={access.rendition}
                hasTranscript={Boolean(access.transcriptUrl)}
                onAccessEnded={accessEnded}
              />
            </>
          ) : (
            <button type="button" className="primary" onClick={() => setAsking(true)}>
              ▶ {t('purpose.play')}
            </button>
          )}
          {asking && <PurposeDialog recordingId={id} onClose={() => setAsking(false)} onGranted={granted} />}
        </>
      )}
    </>
  );
}

/** an identifier as Swedes write it, or the label (in the user's language) a role that hears only redacted audio sees in its place */
function Identifier({ value, format }: { value: string | null | undefined; format: (value: string) => string }) {
  const { t } = useTranslation('recordings');
  if (!value) return <>—</>;
  if (isRedactionLabel(value)) return <span title={t('detail.hidden')}>{masked(value)}</span>;
  return <>{format(value)}</>;
}

function PurposeDialog({ recordingId, onClose, onGranted }: { recordingId: string; onClose: () => void; onGranted: (a: Access & { purpose: string }) => void }) {
  const { t } = useTranslation('recordings');
  const { t: tc } = useTranslation();
  // the purposes and renditions the server offers this user (a nurse the original only of calls she may hear)
  const { purposes, renditions } = useSession();
  const breakGlass = useBreakGlass();
  const id = useId();
  const [purpose, setPurpose] = useState<AccessBody['purpose'] | ''>('');
  const [text, setText] = useState('');
  const [rendition, setRendition] = useState<Rendition>('redacted');
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!purpose) return;
    const { data, error: failure } = await api.POST('/api/v1/recordings/{id}/access', {
      params: { path: { id: recordingId } },
      body: { purpose, ...(text.trim() ? { purposeText: text.trim() } : {}), rendition },
    });
    if (!data?.audioUrl) return setError(errorOf(failure));
    onGranted({ ...data, purpose });
  }

  return (
    <Modal title={t('purpose.heading')} onClose={onClose} tone={breakGlass ? 'danger' : undefined}>
      <p>{t('purpose.intro')}</p>
      {breakGlass && <p className="warning">{t('breakGlass.inPlay')}</p>}
      <form onSubmit={submit}>
        <label htmlFor={`${id}-p`}>{t('purpose.label')}</label>
        <select id={`${id}-p`} value={purpose} onChange={(e) => setPurpose(e.target.value as AccessBody['purpose'])} required>
          <option value="" disabled>
            {t('purpose.choose')}
          </option>
          {purposes.map((p) => (
            <option key={p} value={p}>
              {t(`purpose.options.${p}`)}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-t`}>{t('purpose.text')}</label>
        <textarea id={`${id}-t`} value={text} onChange={(e) => setText(e.target.value)} maxLength={500} rows={2} required={purpose === 'other'} aria-describedby={`${id}-th`} />
        <p id={`${id}-th`} className="hint">
          {t('purpose.textHint')}
        </p>
        {renditions.length > 1 && (
          <fieldset>
            <legend>{t('purpose.rendition')}</legend>
            {renditions.map((r) => (
              <label className="check" key={r}>
                <input type="radio" name="rendition" value={r} checked={rendition === r} onChange={() => setRendition(r)} /> {t(`purpose.${r}`)}
              </label>
            ))}
          </fieldset>
        )}
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {tc('cancel')}
          </button>
          <button type="submit" className="primary" disabled={!purpose || (purpose === 'other' && text.trim().length < 10)}>
            {t('purpose.start')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
