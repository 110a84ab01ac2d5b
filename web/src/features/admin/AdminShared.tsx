/**
 * What the administration sections share: the answers' types, the lists of controllers and
 * processors every form picks from, the words for a failed call, and the dialog that shows a
 * secret the server gives out only once (the confirmation dialog is shared/components').
 */
import { createContext, useCallback, useContext, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { paths } from '../../shared/api/schema';
import { errorOf } from '../../shared/api/client';
import { autofocus, Modal } from '../../shared/components/Modal';
import { useErrorLine } from '../../shared/components/ErrorText';
import { dateTime } from '../../shared/format';

export { ConfirmDialog } from '../../shared/components/ConfirmDialog';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type AdminUser = NonNullable<Json<paths['/api/v1/users']['get']['responses'][200]>['users']>[number];
export type Credentials = Json<paths['/api/v1/users']['post']['responses'][201]>;
export type NewUser = Json<paths['/api/v1/users']['post']['requestBody']>;
export type Token = NonNullable<Json<paths['/api/v1/tokens']['get']['responses'][200]>['tokens']>[number];
export type NewToken = Json<paths['/api/v1/tokens']['post']['requestBody']>;
export type Organisation = NonNullable<Json<paths['/api/v1/controllers']['get']['responses'][200]>['controllers']>[number];
export type Contract = NonNullable<Json<paths['/api/v1/contracts']['get']['responses'][200]>['contracts']>[number];
export type NewContract = Json<paths['/api/v1/contracts']['post']['requestBody']>;
export type KeyStatus = Json<paths['/api/v1/keys']['get']['responses'][200]>;

export const USER_ROLES: Array<NewUser['role']> = ['nurse', 'supervisor', 'dpo', 'auditor', 'admin'];
export const TOKEN_SCOPES: Array<NewToken['scope']> = ['ingest'];
export const CONTRACT_ROLES: NewContract['roles'] = ['nurse', 'supervisor', 'dpo'];
/** the server's pattern for controller and processor ids */
export const ORG_ID_PATTERN = '[a-z0-9][a-z0-9\\-]{0,62}';

/** the controllers and processors, loaded once for the page and again after one is added */
export interface Organisations {
  controllers: Organisation[];
  processors: Organisation[];
  reload: () => Promise<void>;
}
export const OrganisationsContext = createContext<Organisations>({ controllers: [], processors: [], reload: async () => undefined });
export const useOrganisations = () => useContext(OrganisationsContext);

/** the page's live status line: sections tell it what they did */
export const AnnounceContext = createContext<(message: string) => void>(() => undefined);
export const useAnnounce = () => useContext(AnnounceContext);

/** "Region Skåne (region-skane)", or the bare id of an organisation the list does not hold */
export function orgLabel(list: ReadonlyArray<Pick<Organisation, 'id' | 'name'>>, id: string | null | undefined): string {
  if (!id) return '—';
  const o = list.find((x) => x.id === id);
  return o?.name && o.name !== id ? `${o.name} (${id})` : id;
}

/** "Skåne (skane)": a region's or agent's display name with its id, as the administration shows both (the id alone when it has no name) */
export function withId(name: string, id: string): string {
  return name && name !== id ? `${name} (${id})` : id;
}

/** the id of the only organisation in the list (the one meant), else '' */
export function soleId(list: Organisation[]): string {
  return list.length === 1 ? (list[0]?.id ?? '') : '';
}

/** the options of a required choice of organisation: "Choose…" (not choosable), then the list */
export function OrgOptions({ list }: { list: Organisation[] }) {
  const { t } = useTranslation('admin');
  return (
    <>
      <option value="" disabled>
        {t('choose')}
      </option>
      {list.map((o) => (
        <option key={o.id} value={o.id}>
          {orgLabel(list, o.id)}
        </option>
      ))}
    </>
  );
}

/** codes whose meaning is plainer in the administration's own words */
const ADMIN_WORDS = ['CV_CONFLICT', 'CV_FORBIDDEN'];

/** the words for a failed call: the administration's for a few codes, else the shared message for the code */
export function useFailure(): (error: unknown) => string {
  const { t, i18n } = useTranslation('admin');
  const line = useErrorLine();
  return useCallback(
    (error: unknown) => {
      const e = errorOf(error);
      // the server's English words only in the English interface, as useErrorWords does
      if (ADMIN_WORDS.includes(e.code)) return `${t(`errors.${e.code as 'CV_CONFLICT'}`)}${e.message && i18n.language === 'en' ? ` (${e.message})` : ''}`;
      return line(e);
    },
    [t, i18n, line],
  );
}

/** copies a value; says so in its own live region (a screen reader hears it, the field keeps focus) */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const { t } = useTranslation('admin');
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  return (
    <>
      <button
        type="button"
        onClick={() => {
          if (!navigator.clipboard) return setCopied('no');
          void navigator.clipboard.writeText(value).then(
            () => setCopied('yes'),
            () => setCopied('no'),
          );
        }}
      >
        {label}
      </button>
      <span className="admin-copied" aria-live="polite">
        {copied === 'yes' ? t('secret.copied') : copied === 'no' ? t('secret.copyFailed') : ''}
      </span>
    </>
  );
}

export interface SecretField {
  label: string;
  value: string;
  /** the dialog opens on the first secret field */
  secret?: boolean;
}

/**
 * A secret the server shows once (an enrolment code, a machine token). The fields
 * are read-only text, selectable and copyable; closing asks nothing more, but the note says it
 * will not be shown again.
 */
export function SecretDialog({
  title,
  once,
  intro,
  fields,
  onClose,
}: {
  title: string;
  /** why it is shown once; nothing to say when there is no secret */
  once?: string;
  intro: string;
  fields: SecretField[];
  onClose: () => void;
}) {
  const { t } = useTranslation('admin');
  const { t: tc } = useTranslation();
  const id = useId();
  return (
    <Modal title={title} onClose={onClose}>
      {once && (
        <p className="warning admin-once">
          <strong>{t('secret.once')}</strong> {once}
        </p>
      )}
      <p>{intro}</p>
      {fields.map((f, i) => (
        <div key={f.label} className="admin-secret">
          <label htmlFor={`${id}-${i}`}>{f.label}</label>
          <div className="admin-secret-row">
            <input
              id={`${id}-${i}`}
              readOnly
              value={f.value}
              spellCheck={false}
              autoComplete="off"
              onFocus={(e) => e.currentTarget.select()}
              ref={
                i ===
                Math.max(
                  0,
                  fields.findIndex((x) => x.secret),
                )
                  ? autofocus
                  : undefined
              }
            />
            <CopyButton value={f.value} label={t('secret.copy')} />
          </div>
        </div>
      ))}
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>
          {once ? t('secret.done') : tc('close')}
        </button>
      </div>
    </Modal>
  );
}

/**
 * The single-use enrolment code from creating an account or resetting its sign-in: the person
 * sets their own password and authenticator with it; the administrator never sees either.
 */
export function CredentialsDialog({ credentials, reset, onClose }: { credentials: Credentials; reset: boolean; onClose: () => void }) {
  const { t } = useTranslation('admin');
  const fields: SecretField[] = [{ label: t('users.username'), value: credentials.username ?? '' }];
  if (credentials.enrolment) fields.push({ label: t('secret.enrolmentCode'), value: credentials.enrolment.code, secret: true });
  const intro = [
    credentials.enrolment ? t('secret.enrolmentIntro', { until: dateTime(credentials.enrolment.expiresAt) }) : t('secret.oidcIntro'),
    credentials.approval === 'pending' ? t('secret.pendingIntro') : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <SecretDialog
      title={reset ? t('secret.resetHeading', { username: credentials.username }) : t('secret.createdHeading', { username: credentials.username })}
      once={credentials.enrolment ? t('secret.onceCode') : undefined}
      intro={intro}
      fields={fields}
      onClose={onClose}
    />
  );
}
