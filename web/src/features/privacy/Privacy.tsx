/**
 * The privacy officer's page, in sections (tabs, the open one in the address). Subject requests:
 * find a person's recordings by personnummer or phone number, export them (art. 15), erase them
 * (art. 17, by destroying their keys), and show who accessed them; the identifier is kept in this
 * section's state only and sent in POST bodies, never in the address, history or storage. Apart
 * from any one person: the review of break-the-glass periods, the approvals of accounts and
 * contracts (four-eyes), insider-misuse alerts, retention and legal holds, and breach reports,
 * each for the officer who may use it.
 */
import { useCallback, useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api, download, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { clock, dateTime } from '../../shared/format';
import { Modal } from '../../shared/components/Modal';
import { SubjectForm, type Subject } from './SubjectForm';
import { SubjectAccessLog } from './SubjectAccessLog';
import { AuditBreakGlass } from '../audit/AuditBreakGlass';
import { ErrorText } from '../../shared/components/ErrorText';
import { Tabs, useSection } from '../../shared/components/Tabs';
import { useNames, useSession, type Permission } from '../../shared/session';
import { Approvals } from './Approvals';
import { Breach } from './Breach';
import { Holds } from './Holds';
import { Retention } from './Retention';
import { ALERTS_ANCHOR, AlertsBanner, AlertsSection } from '../alerts/Alerts';

type Found = NonNullable<paths['/api/v1/subject/find']['post']['responses'][200]['content']['application/json']['recordings']>[number];
type Erasure = paths['/api/v1/subject/erase']['post']['responses'][200]['content']['application/json'];
const MIN_TEXT = 10;

/** the page's sections, in the order of the tabs; each shown to whoever may use it */
const SECTIONS = ['requests', 'break-glass', 'approvals', 'alerts', 'retention', 'breach'] as const;
type Section = (typeof SECTIONS)[number];
const NEEDS: Record<Section, Permission> = {
  requests: 'subject:find',
  'break-glass': 'break-glass:review',
  approvals: 'accounts:approve',
  alerts: 'alerts:read',
  retention: 'retention:manage',
  breach: 'breach:report',
};

export function PrivacyPage() {
  const { t } = useTranslation('privacy');
  const { can } = useSession();
  const sections = SECTIONS.filter((s) => can(NEEDS[s]));
  const [section, open] = useSection(sections);

  return (
    <>
      <h1>{t('heading')}</h1>
      {can('alerts:read') && <AlertsBanner href="?section=alerts" />}
      <Tabs sections={sections} current={section} label={t('sections')} labelOf={(s) => t(`tabs.${s}`)} onOpen={open}>
        {section === 'requests' && <SubjectRequests />}
        {/* emergency access is reviewed apart from any one person's request */}
        {section === 'break-glass' && (
          <section aria-labelledby="privacy-bg">
            <h2 id="privacy-bg">{t('breakGlass.heading')}</h2>
            <AuditBreakGlass review />
          </section>
        )}
        {/* new staff wait on these */}
        {section === 'approvals' && (
          <section aria-labelledby="privacy-approvals">
            <h2 id="privacy-approvals">{t('approvals.heading')}</h2>
            <Approvals />
          </section>
        )}
        {/* insider misuse: what the detector found about the officer's controllers */}
        {section === 'alerts' && <AlertsPanel />}
        {/* storage limitation: how long the controller keeps calls, and what a case keeps beyond that */}
        {section === 'retention' && (
          <>
            <section aria-labelledby="privacy-retention">
              <h2 id="privacy-retention">{t('retention.heading')}</h2>
              <Retention />
            </section>
            <section aria-labelledby="privacy-holds">
              <h2 id="privacy-holds">{t('holds.heading')}</h2>
              <Holds />
            </section>
          </>
        )}
        {/* a personal data breach (art. 33): what one key, controller, storage location or account exposed */}
        {section === 'breach' && (
          <section aria-labelledby="privacy-breach">
            <h2 id="privacy-breach">{t('breach.heading')}</h2>
            <Breach />
          </section>
        )}
      </Tabs>
    </>
  );
}

function AlertsPanel() {
  const { t: ta } = useTranslation('alerts');
  return (
    <section aria-labelledby="privacy-alerts" id={ALERTS_ANCHOR}>
      <h2 id="privacy-alerts">{ta('heading')}</h2>
      <AlertsSection />
    </section>
  );
}

/** a data subject's requests: find the person, then export, erase, and who accessed the recordings */
function SubjectRequests() {
  const { t } = useTranslation('privacy');
  const [subject, setSubject] = useState<Subject | null>(null);
  const [found, setFound] = useState<Found[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [erasure, setErasure] = useState<Erasure | null>(null);

  const find = useCallback(async (s: Subject) => {
    setBusy(true);
    setError(null);
    const { data, error: failure } = await api.POST('/api/v1/subject/find', { body: s });
    setBusy(false);
    if (!data) {
      setFound(null);
      return setError(errorOf(failure));
    }
    setFound(data.recordings ?? []);
  }, []);

  function clear() {
    setSubject(null);
    setFound(null);
    setErasure(null);
    setError(null);
  }

  return (
    <>
      <section aria-labelledby="privacy-find">
        <h2 id="privacy-find">{t('find.heading')}</h2>
        <SubjectForm
          submitLabel={t('find.submit')}
          busy={busy}
          onSubmit={(s) => {
            setSubject(s);
            setErasure(null);
            void find(s);
          }}
          onClear={clear}
          onEdit={() => subject && clear()}
        />
        <ErrorText error={error} />
        <p className="status" aria-live="polite">
          {busy ? t('find.busy') : found ? (found.length ? t('find.results', { count: found.length }) : t('find.empty')) : ''}
        </p>
        {erasure && <ErasureReceipt erasure={erasure} />}
        {found && found.length > 0 && <FoundTable recordings={found} />}
      </section>

      {subject && found ? (
        <>
          <section aria-labelledby="privacy-export">
            <h2 id="privacy-export">{t('export.heading')}</h2>
            <ExportAction subject={subject} />
          </section>
          <section aria-labelledby="privacy-erase" className="danger-zone">
            <h2 id="privacy-erase">{t('erase.heading')}</h2>
            <EraseAction
              subject={subject}
              recordings={found}
              onErased={(result) => {
                setErasure(result);
                void find(subject);
              }}
            />
          </section>
          <section aria-labelledby="privacy-log">
            <h2 id="privacy-log">{t('accessLog.heading')}</h2>
            {/* after an erasure, what was shown is out of date */}
            <SubjectAccessLog subject={subject} key={erasure?.erasureId ?? ''} />
          </section>
        </>
      ) : (
        <p className="hint">{t('needSubject')}</p>
      )}
    </>
  );
}

function FoundTable({ recordings }: { recordings: Found[] }) {
  const { t } = useTranslation('privacy');
  const names = useNames();
  return (
    <>
      <p className="hint">{t('find.openHint')}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('find.columns.started')}</th>
            <th scope="col">{t('find.columns.duration')}</th>
            <th scope="col">{t('find.columns.region')}</th>
            <th scope="col">{t('find.columns.agent')}</th>
            <th scope="col">{t('find.columns.foundIn')}</th>
          </tr>
        </thead>
        <tbody>
          {recordings.map((r) => {
            const when = dateTime(r.startedAt ?? r.importedAt);
            return (
              <tr key={r.id}>
                <td>
                  <Link to={`/recordings/${r.id}`} aria-label={t('find.open', { when })}>
                    {when}
                  </Link>
                </td>
                <td>{clock(r.durationMs / 1000)}</td>
                <td>{names.region(r.region)}</td>
                <td>{names.agent(r.agent)}</td>
                <td>{(r.foundIn ?? []).map((f) => t(`find.foundIn.${f}`)).join(', ') || '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function ExportAction({ subject }: { subject: Subject }) {
  const { t } = useTranslation('privacy');
  const { t: tc } = useTranslation();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [caseRef, setCaseRef] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (caseRef.trim().length < MIN_TEXT) return;
    setBusy(true);
    setError(null);
    try {
      await download('/api/v1/subject/export', { ...subject, purposeText: caseRef.trim() }, 'subject-export.zip');
      setOpen(false);
      setCaseRef('');
      setDone(true);
    } catch (failure) {
      setError(errorOf(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <p>{t('export.intro')}</p>
      <button
        type="button"
        className="primary"
        onClick={() => {
          setDone(false);
          setError(null);
          setOpen(true);
        }}
      >
        {t('export.button')}
      </button>
      <p className="status" aria-live="polite">
        {done ? t('export.done') : ''}
      </p>
      {open && (
        <Modal title={t('export.dialog')} onClose={() => !busy && setOpen(false)} closable={!busy}>
          <form onSubmit={submit} aria-busy={busy}>
            <label htmlFor={`${id}-ref`}>{t('export.caseRef')}</label>
            <input
              id={`${id}-ref`}
              value={caseRef}
              onChange={(e) => setCaseRef(e.target.value)}
              maxLength={500}
              required
              minLength={MIN_TEXT}
              autoComplete="off"
              aria-describedby={`${id}-rh`}
              className="wide-input"
            />
            <p id={`${id}-rh`} className="hint">
              {t('export.caseRefHint')}
            </p>
            <p className="status" aria-live="polite">
              {busy ? t('export.busy') : ''}
            </p>
            <ErrorText error={error} />
            <div className="actions">
              <button type="button" onClick={() => setOpen(false)} disabled={busy}>
                {tc('cancel')}
              </button>
              <button type="submit" className="primary" disabled={busy || caseRef.trim().length < MIN_TEXT}>
                {busy ? t('export.busy') : t('export.start')}
              </button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}

function EraseAction({ subject, recordings, onErased }: { subject: Subject; recordings: Found[]; onErased: (result: Erasure) => void }) {
  const { t } = useTranslation('privacy');
  const [open, setOpen] = useState(false);
  return (
    <>
      <p>{t('erase.intro')}</p>
      <button type="button" className="danger" disabled={recordings.length === 0} onClick={() => setOpen(true)}>
        ⚠ {t('erase.button')}
      </button>
      {open && (
        <EraseDialog
          subject={subject}
          recordings={recordings}
          onClose={() => setOpen(false)}
          onErased={(result) => {
            setOpen(false);
            onErased(result);
          }}
        />
      )}
    </>
  );
}

function EraseDialog({ subject, recordings, onClose, onErased }: { subject: Subject; recordings: Found[]; onClose: () => void; onErased: (result: Erasure) => void }) {
  const { t } = useTranslation('privacy');
  const { t: tc } = useTranslation();
  const names = useNames();
  const id = useId();
  const [selected, setSelected] = useState<Set<string>>(() => new Set(recordings.map((r) => r.id)));
  const [reason, setReason] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const word = t('erase.confirmWord');
  const ready = selected.size > 0 && reason.trim().length >= MIN_TEXT && confirm.trim().toUpperCase() === word;

  function toggle(rid: string, on: boolean) {
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(rid);
      else next.delete(rid);
      return next;
    });
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    const recordingIds = recordings.map((r) => r.id).filter((rid) => selected.has(rid));
    const { data, error: failure } = await api.POST('/api/v1/subject/erase', { body: { ...subject, recordingIds, reason: reason.trim() } });
    setBusy(false);
    if (!data) return setError(errorOf(failure));
    onErased(data);
  }

  return (
    <Modal title={t('erase.dialog')} onClose={() => !busy && onClose()} closable={!busy} tone="danger">
      <p className="danger-note">
        <strong>⚠ {t('erase.irreversible')}</strong>
      </p>
      <p>{t('erase.auditRemains')}</p>
      <form onSubmit={submit} aria-busy={busy}>
        <fieldset className="erase-list">
          <legend>{t('erase.recordings')}</legend>
          {recordings.map((r) => (
            <label className="check" key={r.id}>
              <input type="checkbox" checked={selected.has(r.id)} onChange={(e) => toggle(r.id, e.target.checked)} />
              {t('erase.recording', { when: dateTime(r.startedAt ?? r.importedAt), length: clock(r.durationMs / 1000), region: names.region(r.region) })}
            </label>
          ))}
        </fieldset>
        <label htmlFor={`${id}-reason`}>{t('erase.reason')}</label>
        <textarea id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} rows={2} maxLength={500} required aria-describedby={`${id}-rh`} />
        <p id={`${id}-rh`} className="hint">
          {t('erase.reasonHint')}
        </p>
        <label htmlFor={`${id}-confirm`}>{t('erase.confirm', { word })}</label>
        <input id={`${id}-confirm`} value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" spellCheck={false} required />
        <p className="status" aria-live="polite">
          {busy ? t('erase.busy') : ''}
        </p>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" className="danger" disabled={busy || !ready}>
            {t('erase.submit', { count: selected.size })}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function ErasureReceipt({ erasure }: { erasure: Erasure }) {
  const { t } = useTranslation('privacy');
  return (
    <div className="erased-note" role="status">
      <p>
        <strong>✓ {t('erase.done', { count: erasure.erased.length })}</strong>
        {erasure.alreadyErased.length > 0 && ` ${t('erase.already', { count: erasure.alreadyErased.length })}`}
      </p>
      <p>{t('erase.auditRemains')}</p>
      {erasure.objectsLeft > 0 && <p className="warning">{t('erase.objectsLeft', { count: erasure.objectsLeft })}</p>}
      <p className="hint">{t('erase.receipt', { id: erasure.erasureId })}</p>
    </div>
  );
}
