/**
 * The second pair of eyes (docs/access.md, "Approval"): accounts that can reach recordings and
 * contracts an administrator made, reset or enabled again wait here for the controller's privacy
 * officer. The server lists only what this officer may decide, and decides nothing on their own
 * account. Approving is one step; refusing asks first, since a refused account can do nothing
 * until an administrator asks again.
 */
import { useCallback, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorOf, type ApiError } from '../../shared/api/client';
import type { paths } from '../../shared/api/schema';
import { requestOf } from '../../shared/approval';
import { ConfirmDialog } from '../../shared/components/ConfirmDialog';
import { useNames } from '../../shared/session';
import { ErrorText, useErrorLine } from '../../shared/components/ErrorText';
import { dateTime } from '../../shared/format';

type Pending = paths['/api/v1/approvals']['get']['responses'][200]['content']['application/json'];
type Account = Pending['users'][number];
type Contract = Pending['contracts'][number];
type Choice = { kind: 'user'; item: Account } | { kind: 'contract'; item: Contract };

export function Approvals() {
  const { t } = useTranslation('privacy');
  const { t: tc } = useTranslation();
  const errorLine = useErrorLine();
  const id = useId();
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [refusing, setRefusing] = useState<Choice | null>(null);

  const load = useCallback(async () => {
    const { data, error: failure } = await api.GET('/api/v1/approvals');
    if (!data) return setError(errorOf(failure));
    setPending(data);
  }, []);
  useEffect(() => void load(), [load]);

  const names = useNames();
  const contractName = (c: Contract) => t('approvals.contract', { processor: names.processor(c.processorId), controller: names.controller(c.controllerId) });

  /** sends the decision; the failure's words, or null */
  async function decide(choice: Choice, decision: 'approve' | 'refuse'): Promise<string | null> {
    setBusy(choice.item.id);
    setError(null);
    setStatus('');
    const params = { params: { path: { id: choice.item.id } } };
    const answer =
      choice.kind === 'user'
        ? await api.POST(decision === 'approve' ? '/api/v1/users/{id}/approve' : '/api/v1/users/{id}/refuse', params)
        : await api.POST(decision === 'approve' ? '/api/v1/contracts/{id}/approve' : '/api/v1/contracts/{id}/refuse', params);
    setBusy(null);
    if (!answer.data) {
      // decided by someone else meanwhile, say: the list shows what still waits
      await load();
      return errorLine(errorOf(answer.error));
    }
    const name = choice.kind === 'user' ? choice.item.username : contractName(choice.item);
    setStatus(t(`approvals.done.${choice.kind}.${decision}`, { name }));
    await load();
    return null;
  }

  async function approve(choice: Choice) {
    const failed = await decide(choice, 'approve');
    if (failed) setError(failed);
  }

  const nothing = pending && pending.users.length === 0 && pending.contracts.length === 0;
  return (
    <>
      {pending && !nothing && <p>{t('approvals.intro')}</p>}
      <ErrorText error={error} />
      {pending === null && !error && <p className="status">{tc('loading')}</p>}
      {nothing && <p>{t('approvals.empty')}</p>}
      {pending && pending.users.length > 0 && (
        <table className="approvals" aria-labelledby={`${id}-users`}>
          <caption id={`${id}-users`}>{t('approvals.accounts', { count: pending.users.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('approvals.columns.username')}</th>
              <th scope="col">{t('approvals.columns.role')}</th>
              <th scope="col">{t('approvals.columns.organisation')}</th>
              <th scope="col">{t('approvals.columns.agent')}</th>
              <th scope="col">{t('approvals.columns.team')}</th>
              <th scope="col">{t('approvals.columns.request')}</th>
              <th scope="col">{t('approvals.columns.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {pending.users.map((u) => (
              <tr key={u.id}>
                <th scope="row">{u.username}</th>
                <td>{tc(`roles.${u.role}`, { defaultValue: u.role })}</td>
                <td>
                  {u.controllerId
                    ? t('approvals.controllerStaff', { id: names.controller(u.controllerId) })
                    : u.processorId
                      ? t('approvals.processorStaff', { id: names.processor(u.processorId) })
                      : tc('none')}
                </td>
                <td>{u.agent ? names.agent(u.agent) : tc('none')}</td>
                <td>{u.team ?? tc('none')}</td>
                <td>{t(`approvals.requests.${requestOf(u.approvalRequest)}`)}</td>
                <td>
                  <Decisions
                    name={u.username}
                    what="account"
                    busy={busy === u.id}
                    onApprove={() => void approve({ kind: 'user', item: u })}
                    onRefuse={() => setRefusing({ kind: 'user', item: u })}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pending && pending.contracts.length > 0 && (
        <table className="approvals" aria-labelledby={`${id}-contracts`}>
          <caption id={`${id}-contracts`}>{t('approvals.contracts', { count: pending.contracts.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('approvals.columns.contract')}</th>
              <th scope="col">{t('approvals.columns.roles')}</th>
              <th scope="col">{t('approvals.columns.regions')}</th>
              <th scope="col">{t('approvals.columns.from')}</th>
              <th scope="col">{t('approvals.columns.to')}</th>
              <th scope="col">{t('approvals.columns.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {pending.contracts.map((c) => (
              <tr key={c.id}>
                <th scope="row">{contractName(c)}</th>
                <td>{c.roles.map((r) => tc(`roles.${r}`, { defaultValue: r })).join(', ') || tc('none')}</td>
                <td>{c.regions?.length ? c.regions.map(names.region).join(', ') : t('approvals.allRegions')}</td>
                <td>{dateTime(c.validFrom)}</td>
                <td>{dateTime(c.validTo)}</td>
                <td>
                  <Decisions
                    name={contractName(c)}
                    what="contract"
                    busy={busy === c.id}
                    onApprove={() => void approve({ kind: 'contract', item: c })}
                    onRefuse={() => setRefusing({ kind: 'contract', item: c })}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="status" role="status" aria-live="polite">
        {status}
      </p>
      {refusing && (
        <ConfirmDialog
          title={
            refusing.kind === 'user'
              ? t('approvals.refuseHeading.user', { name: refusing.item.username })
              : t('approvals.refuseHeading.contract', { name: contractName(refusing.item) })
          }
          confirm={refusing.kind === 'user' ? t('approvals.refuseConfirm.user') : t('approvals.refuseConfirm.contract')}
          onConfirm={async () => {
            const failed = await decide(refusing, 'refuse');
            if (!failed) setRefusing(null);
            return failed;
          }}
          onClose={() => setRefusing(null)}
        >
          <p>{refusing.kind === 'user' ? t('approvals.refuseText.user') : t('approvals.refuseText.contract')}</p>
        </ConfirmDialog>
      )}
    </>
  );
}

function Decisions({ name, what, busy, onApprove, onRefuse }: { name: string; what: 'account' | 'contract'; busy: boolean; onApprove: () => void; onRefuse: () => void }) {
  const { t } = useTranslation('privacy');
  return (
    <div className="row-actions">
      <button type="button" className="primary" onClick={onApprove} disabled={busy} aria-busy={busy} aria-label={t(`approvals.approveFor.${what}`, { name })}>
        {t('approvals.approve')}
      </button>
      <button type="button" onClick={onRefuse} disabled={busy} aria-label={t(`approvals.refuseFor.${what}`, { name })}>
        {t('approvals.refuse')}
      </button>
    </div>
  );
}
