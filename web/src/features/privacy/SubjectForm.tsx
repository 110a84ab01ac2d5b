/**
 * Which person a request is about: a personnummer or a phone number. The value lives in this
 * form's state only and goes to the server in a POST body: never in the address, the history or
 * browser storage (the inputs also ask the browser not to remember it).
 */
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

export type SubjectKind = 'personnummer' | 'phone';
export type Subject = { personnummer: string; phone?: never } | { phone: string; personnummer?: never };

export function subjectOf(kind: SubjectKind, value: string): Subject {
  return kind === 'personnummer' ? { personnummer: value } : { phone: value };
}

/**
 * @param onEdit called when the person typed changes: what was found for the previous value must
 *   not be acted on as if it were this one's
 */
export function SubjectForm({
  submitLabel,
  busy,
  onSubmit,
  onClear,
  onEdit,
}: {
  submitLabel: string;
  busy?: boolean;
  onSubmit: (subject: Subject) => void;
  onClear?: () => void;
  onEdit?: () => void;
}) {
  const { t } = useTranslation('privacy');
  const id = useId();
  const [kind, setKind] = useState<SubjectKind>('personnummer');
  const [value, setValue] = useState('');

  function submit(e: FormEvent) {
    e.preventDefault();
    const v = value.trim();
    if (v) onSubmit(subjectOf(kind, v));
  }

  return (
    <form className="filters subject-form" onSubmit={submit} aria-label={t('subject.form')} autoComplete="off">
      <div className="field">
        <label htmlFor={`${id}-kind`}>{t('subject.kind')}</label>
        <select
          id={`${id}-kind`}
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as SubjectKind);
            onEdit?.();
          }}
        >
          <option value="personnummer">{t('subject.personnummer')}</option>
          <option value="phone">{t('subject.phone')}</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-value`}>{kind === 'personnummer' ? t('subject.personnummer') : t('subject.phone')}</label>
        <input
          id={`${id}-value`}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            onEdit?.();
          }}
          inputMode={kind === 'phone' ? 'tel' : 'numeric'}
          autoComplete="off"
          spellCheck={false}
          maxLength={kind === 'personnummer' ? 20 : 40}
          required
          aria-describedby={`${id}-hint ${id}-private`}
        />
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !value.trim()}>
          {submitLabel}
        </button>
        <button
          type="button"
          onClick={() => {
            setValue('');
            onClear?.();
          }}
        >
          {t('subject.clear')}
        </button>
      </div>
      <p id={`${id}-hint`} className="hint field wide">
        {kind === 'personnummer' ? t('subject.personnummerHint') : t('subject.phoneHint')}
      </p>
      <p id={`${id}-private`} className="hint field wide">
        {t('subject.private')}
      </p>
    </form>
  );
}
