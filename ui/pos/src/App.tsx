/**
 * The page: asks Rust where the app stands (`app_state`) and shows the screen for that phase:
 * sign in, pick the terminal, or the cashier's main layout.
 */
import { useCallback, useEffect, useState } from 'react';
import { ErrorText, I18nProvider, useI18n } from '@lapak/kit';
import type { AppState } from './generated/api';
import { call, failureMessage } from './ipc';
import { Main } from './screens/Main';
import { PickTerminal } from './screens/PickTerminal';
import { SignIn } from './screens/SignIn';

export function App() {
  const [app, setApp] = useState<AppState | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    setError(null);
    call('app_state', {}).then(setApp, (thrown: unknown) => setError(failureMessage(thrown)));
  }, []);

  useEffect(() => {
    call('app_state', {}).then(setApp, (thrown: unknown) => setError(failureMessage(thrown)));
  }, []);

  return (
    <I18nProvider locale={app?.locale ?? 'id'}>
      {app ? <Phase app={app} setApp={setApp} /> : <Starting error={error} retry={load} />}
    </I18nProvider>
  );
}

function Phase({ app, setApp }: { app: AppState; setApp: (app: AppState) => void }) {
  switch (app.phase) {
    case 'sign_in':
      return <SignIn app={app} onDone={setApp} />;
    case 'pick_terminal':
      return <PickTerminal app={app} onDone={setApp} />;
    case 'ready':
      return <Main app={app} setApp={setApp} />;
  }
}

function Starting({ error, retry }: { error: string | null; retry: () => void }) {
  const { t } = useI18n();
  return (
    <div className="center-screen" data-testid="starting">
      <div className="card card-narrow">
        <h1 className="brand-title">Lapak POS</h1>
        {error ? (
          <>
            <ErrorText message={error} />
            <button type="button" className="button button-primary" onClick={retry}>
              {t('common.retry')}
            </button>
          </>
        ) : (
          <p className="muted">{t('common.loading')}</p>
        )}
      </div>
    </div>
  );
}
