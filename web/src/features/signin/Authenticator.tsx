/**
 * The authenticator to set up, on a first sign-in and at enrolment with a code: its otpauth URI
 * as a QR code to scan, and the secret to type where a camera is not at hand.
 */
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import QRCode from 'qrcode';

/** an authenticator secret to enrol, as the server sends it */
export interface TotpEnrolment {
  secret: string;
  uri: string;
}

export function AuthenticatorSetup({ enrolment }: { enrolment: TotpEnrolment }) {
  const { t } = useTranslation('signin');
  const id = useId();
  const [qr, setQr] = useState<string | null>(null);
  useEffect(() => {
    void QRCode.toDataURL(enrolment.uri, { margin: 1, width: 200 }).then(setQr, () => setQr(null));
  }, [enrolment.uri]);
  return (
    <fieldset className="enrol" aria-labelledby={`${id}-eh`}>
      <h2 id={`${id}-eh`}>{t('enrolHeading')}</h2>
      <p>{t('enrolText')}</p>
      {qr ? <img src={qr} alt={t('qrAlt')} width={200} height={200} /> : <div className="qr-space" />}
      <p>
        {t('enrolSecret')}: <code className="secret">{enrolment.secret}</code>
      </p>
    </fieldset>
  );
}
