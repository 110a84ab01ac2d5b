/**
 * Tenancy: controllers (regions, which own recordings and keys), processors (call-centre
 * companies), and the contracts that let a processor's staff reach a controller's calls, in which
 * roles and regions, for which period. Ending a contract ends that access at once, so it asks first.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../shared/api/client';
import { dateTime } from '../../shared/format';
import {
  ConfirmDialog,
  CONTRACT_ROLES,
  ORG_ID_PATTERN,
  orgLabel,
  OrgOptions,
  soleId,
  useAnnounce,
  useFailure,
  useOrganisations,
  withId,
  type Contract,
  type NewContract,
} from './AdminShared';
import { ErrorText } from '../../shared/components/ErrorText';
import { useNames } from '../../shared/session';
import { Modal } from '../../shared/components/Modal';

type Kind = 'controller' | 'processor';

export function AdminTenancy({ headingId }: { headingId: string }) {
  const { t } = useTranslation('admin');
  return (
    <>
      <h2 id={headingId}>{t('tenancy.heading')}</h2>
      <p className="hint">{t('tenancy.intro')}</p>
      <Organisations kind="controller" />
      <Organisations kind="processor" />
      <Contracts />
    </>
  );
}

function Organisations({ kind }: { kind: Kind }) {
  const { t } = useTranslation('admin');
  const orgs = useOrganisations();
  const announce = useAnnounce();
  const headingId = useId();
  const [adding, setAdding] = useState(false);
  const list = kind === 'controller' ? orgs.controllers : orgs.processors;
  return (
    <section aria-labelledby={headingId} className="admin-sub">
      <div className="page-head">
        <h3 id={headingId}>{t(`tenancy.${kind}s`)}</h3>
        <button type="button" onClick={() => setAdding(true)}>
          {t(`tenancy.add.${kind}`)}
        </button>
      </div>
      {list.length === 0 ? (
        <p>{t(`tenancy.none.${kind}`)}</p>
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">{t('tenancy.id')}</th>
              <th scope="col">{t('tenancy.name')}</th>
              <th scope="col">{t('tenancy.created')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((o) => (
              <tr key={o.id}>
                <th scope="row">
                  <code>{o.id}</code>
                </th>
                <td>{o.name}</td>
                <td>{dateTime(o.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adding && (
        <AddOrganisationDialog
          kind={kind}
          onClose={() => setAdding(false)}
          onAdded={(id, keyId) => {
            setAdding(false);
            announce(keyId ? t('tenancy.addedController', { id, keyId }) : t(`tenancy.added.${kind}`, { id }));
            void orgs.reload();
          }}
        />
      )}
    </section>
  );
}

function AddOrganisationDialog({ kind, onClose, onAdded }: { kind: Kind; onClose: () => void; onAdded: (id: string, keyId?: string) => void }) {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const failure = useFailure();
  const id = useId();
  const [orgId, setOrgId] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { id: orgId.trim(), name: name.trim() };
    if (kind === 'controller') {
      const { data, error: failed } = await api.POST('/api/v1/controllers', { body });
      setBusy(false);
      if (!data) return setError(failure(failed));
      onAdded(body.id, data.keyId);
    } else {
      const { data, error: failed } = await api.POST('/api/v1/processors', { body });
      setBusy(false);
      if (!data) return setError(failure(failed));
      onAdded(body.id);
    }
  }

  return (
    <Modal title={t(`tenancy.add.${kind}`)} onClose={onClose}>
      <form onSubmit={submit} className="admin-form">
        {kind === 'controller' && <p>{t('tenancy.controllerKeyNote')}</p>}
        <label htmlFor={`${id}-i`}>{t('tenancy.id')}</label>
        <input
          id={`${id}-i`}
          value={orgId}
          onChange={(e) => setOrgId(e.target.value.toLowerCase())}
          required
          maxLength={63}
          pattern={ORG_ID_PATTERN}
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-ih`}
        />
        <p id={`${id}-ih`} className="hint">
          {t('tenancy.idHint')}
        </p>
        <label htmlFor={`${id}-n`}>{t('tenancy.name')}</label>
        <input id={`${id}-n`} value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} autoComplete="off" />
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {tc('cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            {t(`tenancy.add.${kind}`)}
          </button>
        </div>
      </form>
    </Modal>
  );
}

type ContractState = 'future' | 'inForce' | 'ended' | 'pending' | 'refused';
/** a contract that waits for the controller's privacy officer, or was refused, reaches nothing whatever its dates */
function stateOf(c: Contract, now: string): ContractState {
  if (c.validTo && now >= c.validTo) return 'ended';
  if (c.approval === 'refused') return 'refused';
  if (c.approval === 'pending') return 'pending';
  if (c.validFrom && now < c.validFrom) return 'future';
  return 'inForce';
}

function Contracts() {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const orgs = useOrganisations();
  const names = useNames();
  const announce = useAnnounce();
  const failure = useFailure();
  const headingId = useId();
  const [contracts, setContracts] = useState<Contract[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [ending, setEnding] = useState<Contract | null>(null);

  const load = useCallback(async () => {
    const { data, error: failed } = await api.GET('/api/v1/contracts');
    if (!data) return setError(failure(failed));
    setError(null);
    setContracts([...(data.contracts ?? [])].sort((a, b) => (b.validFrom ?? '').localeCompare(a.validFrom ?? '')));
  }, [failure]);
  useEffect(() => void load(), [load]);

  async function end(c: Contract): Promise<string | null> {
    const { data, error: failed } = await api.POST('/api/v1/contracts/{id}/end', { params: { path: { id: c.id! } } });
    if (!data) return failure(failed);
    setEnding(null);
    announce(t('contracts.ended', { processor: orgLabel(orgs.processors, c.processorId), controller: orgLabel(orgs.controllers, c.controllerId) }));
    await load();
    return null;
  }

  const now = new Date().toISOString();
  return (
    <section aria-labelledby={headingId} className="admin-sub">
      <div className="page-head">
        <h3 id={headingId}>{t('contracts.heading')}</h3>
        <button type="button" onClick={() => setAdding(true)}>
          {t('contracts.add')}
        </button>
      </div>
      <ErrorText error={error} />
      {contracts === null && !error && <p className="status">{tc('loading')}</p>}
      {contracts && contracts.length === 0 && <p>{t('contracts.empty')}</p>}
      {contracts && contracts.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so that keyboard users can scroll it (WCAG 2.1.1)
        <section className="admin-scroll" aria-labelledby={headingId} tabIndex={0}>
          <table className="admin-table">
            <thead>
              <tr>
                <th scope="col">{t('contracts.processor')}</th>
                <th scope="col">{t('contracts.controller')}</th>
                <th scope="col">{t('contracts.roles')}</th>
                <th scope="col">{t('contracts.regions')}</th>
                <th scope="col">{t('contracts.validFrom')}</th>
                <th scope="col">{t('contracts.validTo')}</th>
                <th scope="col">{t('contracts.state')}</th>
                <th scope="col">{t('contracts.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {contracts.map((c) => {
                const state = stateOf(c, now);
                const label = t('contracts.label', { processor: orgLabel(orgs.processors, c.processorId), controller: orgLabel(orgs.controllers, c.controllerId) });
                return (
                  <tr key={c.id} className={state === 'ended' || state === 'refused' ? 'admin-muted' : undefined}>
                    <th scope="row">{orgLabel(orgs.processors, c.processorId)}</th>
                    <td>{orgLabel(orgs.controllers, c.controllerId)}</td>
                    <td>{(c.roles ?? []).map((r) => tc(`roles.${r}`)).join(', ') || '—'}</td>
                    <td>{c.regions?.length ? c.regions.map((r) => withId(names.region(r), r)).join(', ') : t('contracts.allRegions')}</td>
                    <td>{dateTime(c.validFrom)}</td>
                    <td>{dateTime(c.validTo)}</td>
                    <td>
                      <span className={`admin-state ${state}`}>{t(`contracts.states.${state}`)}</span>
                      {(state === 'pending' || state === 'refused') && <div className="hint">{t(`contracts.stateHint.${state}`)}</div>}
                    </td>
                    <td>
                      {state !== 'ended' && state !== 'refused' ? (
                        <button type="button" onClick={() => setEnding(c)} aria-label={t('contracts.endFor', { contract: label })}>
                          {t('contracts.end')}
                        </button>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
      {adding && (
        <AddContractDialog
          onClose={() => setAdding(false)}
          onAdded={(c) => {
            setAdding(false);
            const names = { processor: orgLabel(orgs.processors, c.processorId), controller: orgLabel(orgs.controllers, c.controllerId) };
            announce(c.approval === 'pending' ? t('contracts.addedPending', names) : t('contracts.added', names));
            void load();
          }}
        />
      )}
      {ending && (
        <ConfirmDialog title={t('contracts.confirmHeading')} confirm={t('contracts.confirm')} onConfirm={() => end(ending)} onClose={() => setEnding(null)}>
          <p>
            <strong>{t('contracts.label', { processor: orgLabel(orgs.processors, ending.processorId), controller: orgLabel(orgs.controllers, ending.controllerId) })}</strong>
          </p>
          <p>{t('contracts.confirmText')}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** YYYY-MM-DD of a local date */
function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
/** the start of a local day, as an instant */
function dayStart(day: string, plusDays = 0): string {
  const d = new Date(`${day}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

function AddContractDialog({ onClose, onAdded }: { onClose: () => void; onAdded: (c: Contract) => void }) {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const orgs = useOrganisations();
  const failure = useFailure();
  const id = useId();
  const today = new Date();
  const inAYear = new Date(today);
  inAYear.setFullYear(today.getFullYear() + 1);
  const [processorId, setProcessorId] = useState(soleId(orgs.processors));
  const [controllerId, setControllerId] = useState(soleId(orgs.controllers));
  const [roles, setRoles] = useState<Set<NewContract['roles'][number]>>(new Set(['nurse', 'supervisor']));
  const [regions, setRegions] = useState('');
  const [from, setFrom] = useState(isoDay(today));
  const [to, setTo] = useState(isoDay(inAYear));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (roles.size === 0) return setError(t('contracts.needRole'));
    if (to < from) return setError(t('contracts.needOrder'));
    setBusy(true);
    setError(null);
    const list = regions
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    const body: NewContract = {
      processorId,
      controllerId,
      roles: CONTRACT_ROLES.filter((r) => roles.has(r)),
      ...(list.length ? { regions: list } : {}),
      validFrom: dayStart(from),
      // the last day counts in full: the contract ends when the day after it begins
      validTo: dayStart(to, 1),
    };
    const { data, error: failed } = await api.POST('/api/v1/contracts', { body });
    setBusy(false);
    if (!data) return setError(failure(failed));
    onAdded(data);
  }

  return (
    <Modal title={t('contracts.addHeading')} onClose={onClose}>
      <form onSubmit={submit} className="admin-form">
        <label htmlFor={`${id}-p`}>{t('contracts.processor')}</label>
        <select id={`${id}-p`} value={processorId} onChange={(e) => setProcessorId(e.target.value)} required>
          <OrgOptions list={orgs.processors} />
        </select>
        <label htmlFor={`${id}-c`}>{t('contracts.controller')}</label>
        <select id={`${id}-c`} value={controllerId} onChange={(e) => setControllerId(e.target.value)} required>
          <OrgOptions list={orgs.controllers} />
        </select>
        <fieldset aria-describedby={`${id}-rh`}>
          <legend>{t('contracts.roles')}</legend>
          {CONTRACT_ROLES.map((r) => (
            <label key={r} className="check">
              <input
                type="checkbox"
                checked={roles.has(r)}
                onChange={(e) => {
                  const next = new Set(roles);
                  if (e.target.checked) next.add(r);
                  else next.delete(r);
                  setRoles(next);
                }}
              />{' '}
              {tc(`roles.${r}`)}
            </label>
          ))}
          <p id={`${id}-rh`} className="hint">
            {t('contracts.rolesHint')}
          </p>
        </fieldset>
        <label htmlFor={`${id}-r`}>
          {t('contracts.regions')} <span className="hint">({t('optional')})</span>
        </label>
        <input id={`${id}-r`} value={regions} onChange={(e) => setRegions(e.target.value)} autoComplete="off" aria-describedby={`${id}-regh`} />
        <p id={`${id}-regh`} className="hint">
          {t('contracts.regionsHint')}
        </p>
        <div className="admin-dates">
          <div>
            <label htmlFor={`${id}-f`}>{t('contracts.fromDay')}</label>
            <input id={`${id}-f`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
          </div>
          <div>
            <label htmlFor={`${id}-t`}>{t('contracts.toDay')}</label>
            <input id={`${id}-t`} type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} required aria-describedby={`${id}-th`} />
          </div>
        </div>
        <p id={`${id}-th`} className="hint">
          {t('contracts.datesHint')}
        </p>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {tc('cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            {t('contracts.addSubmit')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
