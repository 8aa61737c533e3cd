/**
 * The admin web: asks the server who is signed in, then shows the sign-in or the pages. The
 * session ends when the server says so (signed out, revoked, idle): the sign-in shows again.
 */
import { useCallback, useEffect, useState } from 'react';
import { ErrorText, I18nProvider, type Locale } from '@lapak/kit';
import { api, onSignedOut } from './api';
import type { WebSession } from './generated/api';
import { messages, saveLocale, savedLocale, useT } from './i18n';
import { failureMessage } from './failure';
import { Shell } from './Shell';
import { SignIn } from './pages/SignIn';

type Phase =
  | { kind: 'starting'; error: unknown }
  | { kind: 'signedOut'; ended: boolean }
  | { kind: 'signedIn'; session: WebSession };

export function App() {
  const [locale, setLocale] = useState<Locale>(savedLocale);
  const changeLocale = useCallback((next: Locale) => {
    saveLocale(next);
    setLocale(next);
  }, []);
  return (
    <I18nProvider locale={locale} messages={messages}>
      <Root locale={locale} setLocale={changeLocale} />
    </I18nProvider>
  );
}

function Root({ locale, setLocale }: { locale: Locale; setLocale: (l: Locale) => void }) {
  const { t } = useT();
  const [phase, setPhase] = useState<Phase>({ kind: 'starting', error: null });

  const start = useCallback(() => {
    api.session().then(
      (session) => setPhase(session ? { kind: 'signedIn', session } : { kind: 'signedOut', ended: false }),
      (thrown: unknown) => setPhase({ kind: 'starting', error: thrown ?? 'error' }),
    );
  }, []);

  useEffect(() => {
    start();
    onSignedOut(() => setPhase({ kind: 'signedOut', ended: true }));
    return () => onSignedOut(null);
  }, [start]);

  switch (phase.kind) {
    case 'starting':
      return (
        <div className="center-screen" data-testid="starting">
          <div className="card card-narrow">
            <h1 className="brand-title">{t('app.title')}</h1>
            {phase.error !== null ? (
              <>
                <ErrorText message={failureMessage(phase.error, t)} />
                <button type="button" className="button button-primary" onClick={start}>
                  {t('common.retry')}
                </button>
              </>
            ) : (
              <p className="muted">{t('common.loading')}</p>
            )}
          </div>
        </div>
      );
    case 'signedOut':
      return (
        <SignIn
          ended={phase.ended}
          locale={locale}
          setLocale={setLocale}
          onSignedIn={(session) => setPhase({ kind: 'signedIn', session })}
        />
      );
    case 'signedIn':
      return (
        <Shell
          session={phase.session}
          locale={locale}
          setLocale={setLocale}
          onSignedOut={() => setPhase({ kind: 'signedOut', ended: false })}
        />
      );
  }
}
