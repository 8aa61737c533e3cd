/** Sign in: the server's address and the cashier's name and password (`sign_in`). */
import { useState, type FormEvent } from 'react';
import { ErrorText, Field, useI18n } from '@lapak/kit';
import type { AppState } from '../generated/api';
import { useAction } from '../hooks';
import { call } from '../ipc';
import { LanguageSwitch } from './LanguageSwitch';

export function SignIn({ app, onDone }: { app: AppState; onDone: (app: AppState) => void }) {
  const { t } = useI18n();
  const [server, setServer] = useState(app.server ?? '');
  const [username, setUsername] = useState(app.user?.username ?? '');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();
  // The first field still empty gets the cursor.
  const first = !app.server ? 'server' : !app.user?.username ? 'username' : 'password';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const next = await run(() => call('sign_in', { server: server.trim(), username: username.trim(), password }));
    if (next) onDone(next);
    else setPassword('');
  };

  return (
    <div className="center-screen">
      <form className="card card-narrow" onSubmit={(e) => void submit(e)} data-testid="sign-in">
        <div className="card-title-row">
          <h1 className="brand-title">Lapak POS</h1>
          <LanguageSwitch onChange={onDone} onError={setError} />
        </div>
        <p className="muted">{t('signIn.intro')}</p>
        <Field label={t('signIn.server')}>
          <input
            className="input"
            data-testid="server"
            value={server}
            onChange={(e) => setServer(e.target.value)}
            placeholder="http://10.0.0.5:8080"
            autoFocus={first === 'server'}
            required
          />
        </Field>
        <Field label={t('signIn.username')}>
          <input
            className="input"
            data-testid="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoComplete="username"
            autoFocus={first === 'username'}
            required
          />
        </Field>
        <Field label={t('signIn.password')}>
          <input
            className="input"
            data-testid="password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="current-password"
            autoFocus={first === 'password'}
            required
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
