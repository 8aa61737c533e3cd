/** The sign-in: user name and password; the session goes into cookies the page never sees. */
import { useState, type FormEvent } from 'react';
import { ErrorText, Field, type Locale } from '@lapak/kit';
import { api } from '../api';
import { failureMessage } from '../failure';
import type { WebSession } from '../generated/api';
import { useT } from '../i18n';
import { LanguageSwitch } from '../LanguageSwitch';

export function SignIn({
  ended,
  locale,
  setLocale,
  onSignedIn,
}: {
  ended: boolean;
  locale: Locale;
  setLocale: (l: Locale) => void;
  onSignedIn: (session: WebSession) => void;
}) {
  const { t } = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    api.signIn({ username: username.trim(), password }).then(onSignedIn, (thrown: unknown) => {
      setError(failureMessage(thrown, t));
      setPassword('');
      setBusy(false);
    });
  };

  return (
    <div className="center-screen">
      <form className="card card-narrow stack" onSubmit={submit} data-testid="sign-in">
        <div className="card-title-row">
          <h1 className="brand-title">{t('app.title')}</h1>
          <LanguageSwitch locale={locale} setLocale={setLocale} />
        </div>
        <p className="muted">{t('signIn.intro')}</p>
        {ended && <p className="banner banner-info">{t('error.sessionEnded')}</p>}
        <Field label={t('signIn.username')}>
          <input
            className="input"
            data-testid="username"
            autoComplete="username"
            autoFocus
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </Field>
        <Field label={t('signIn.password')}>
          <input
            className="input"
            data-testid="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <ErrorText message={error} />
        <button type="submit" className="button button-primary button-block" disabled={busy} data-testid="sign-in-submit">
          {busy ? t('signIn.signingIn') : t('signIn.submit')}
        </button>
      </form>
    </div>
  );
}
