/** Small pieces both audit tables use: who, the action, the outcome, the purpose. */
import { useTranslation } from 'react-i18next';
import { masked } from '../../shared/format';

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

const ROLES = new Set(['nurse', 'supervisor', 'dpo', 'auditor', 'admin']);

/** a role as logged, named in the user's language when it is one of ours */
export function useRoleName(): (role: string | undefined) => string | undefined {
  const { t } = useTranslation();
  return (role) => (role && ROLES.has(role) ? t(`roles.${role as 'nurse'}`) : role);
}

export function AuditActor({ actor }: { actor: ActorView | undefined }) {
  const { t: ta } = useTranslation('audit');
  const roleName = useRoleName();
  if (!actor) return <>—</>;
  const role = roleName(actor.role);
  const name = actor.name ?? (actor.type === 'system' ? ta('log.system') : actor.id ? shortId(actor.id) : actor.type);
  return (
    <>
      <span title={actor.id}>{name ?? '—'}</span>
      {(role || (actor.type && actor.type !== 'user')) && <span className="hint block">{role ?? actor.type}</span>}
    </>
  );
}

/** sign-in refusals that are a step of a first sign-in, not a failed attempt: the form asks for what comes next */
const SIGNIN_STEPS: Record<string, 'enrol' | 'newPassword'> = {
  CV_TOTP_ENROLMENT_REQUIRED: 'enrol',
  CV_PASSWORD_CHANGE_REQUIRED: 'newPassword',
};

export function AuditOutcome({ outcome, action, reason }: { outcome: string | null | undefined; action?: string | null; reason?: unknown }) {
  const { t } = useTranslation('audit');
  if (!outcome) return <>—</>;
  if (outcome === 'success') return <span className="outcome-ok">{t('outcomes.success')}</span>;
  const step = action === 'auth.signin' && outcome === 'failure' && typeof reason === 'string' ? SIGNIN_STEPS[reason] : undefined;
  if (step) return <span className="outcome-step">{t(`outcomes.step.${step}`)}</span>;
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
      {text ? <span className="hint block">“{masked(text)}”</span> : null}
    </>
  );
}

/**
 * Which rendition an access was stated for or served (an entry's `detail.rendition`): the original,
 * in which the identifiers are audible, stands out; nothing when the entry names none.
 */
export function AuditRendition({ rendition }: { rendition: unknown }) {
  const { t } = useTranslation('audit');
  if (rendition === 'original') return <strong className="outcome-bad block rendition-original">⚠ {t('renditions.original')}</strong>;
  if (rendition === 'redacted') return <span className="hint block">{t('renditions.redacted')}</span>;
  return null;
}
