/** Small pieces both audit tables use: who, the action, the outcome, the purpose. */
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api/client';

export interface ActorView {
  type?: string;
  id?: string;
  name?: string;
  role?: string;
}

/** the first 8 characters of an id: enough to tell rows apart; the full id is in the title */
export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '—';
}

/** an action as logged, with its name in the user's language when it is a known one */
export function AuditAction({ action }: { action: string | null | undefined }) {
  const { t } = useTranslation('audit');
  if (!action) return <>—</>;
  const names = t('actions', { returnObjects: true }) as unknown as Record<string, string>;
  const known = names[action];
  return (
    <>
      <code>{action}</code>
      {known ? <span className="hint block">{known}</span> : null}
    </>
  );
}

export function AuditActor({ actor }: { actor: ActorView | undefined }) {
  const { t } = useTranslation();
  const { t: ta } = useTranslation('audit');
  if (!actor) return <>—</>;
  const role = actor.role && ['nurse', 'supervisor', 'dpo', 'auditor', 'admin'].includes(actor.role) ? t(`roles.${actor.role as 'nurse'}`) : actor.role;
  const name = actor.name ?? (actor.type === 'system' ? ta('log.system') : actor.id ? shortId(actor.id) : actor.type);
  return (
    <>
      <span title={actor.id}>{name ?? '—'}</span>
      {(role || (actor.type && actor.type !== 'user')) && <span className="hint block">{role ?? actor.type}</span>}
    </>
  );
}

export function AuditOutcome({ outcome }: { outcome: string | null | undefined }) {
  const { t } = useTranslation('audit');
  if (!outcome) return <>—</>;
  if (outcome === 'success') return <span className="outcome-ok">{t('outcomes.success')}</span>;
  const label = outcome === 'denied' || outcome === 'failure' ? t(`outcomes.${outcome}`) : outcome;
  return <strong className="outcome-bad">⚠ {label}</strong>;
}

const PURPOSES = new Set(['patient-follow-up', 'quality-review', 'complaint', 'incident-investigation', 'subject-request', 'legal-request', 'other']);

export function AuditPurpose({ purpose, text, breakGlass }: { purpose: string | null | undefined; text: string | null | undefined; breakGlass?: boolean | string | null }) {
  const { t } = useTranslation('recordings');
  const { t: ta } = useTranslation('audit');
  return (
    <>
      {breakGlass ? <strong className="break-glass-tag">⚠ {ta('log.breakGlass')}</strong> : null}
      {purpose ? <span className="block">{PURPOSES.has(purpose) ? t(`purpose.options.${purpose as 'other'}`) : purpose}</span> : !breakGlass && '—'}
      {text ? <span className="hint block">“{text}”</span> : null}
    </>
  );
}

/** a failed request's message (the server's, else a generic one), announced as it appears */
export function ErrorText({ error }: { error: ApiError | null | undefined }) {
  const { t } = useTranslation();
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error.code === 'CV_NETWORK' ? t('error.network') : error.message || t('error.generic', { code: error.code })}
    </p>
  );
}
