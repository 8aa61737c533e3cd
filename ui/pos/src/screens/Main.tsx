/**
 * The cashier's layout once the terminal is ready: a header that is always visible (sync badge,
 * cashier, terminal, language, sign out), the nav (F1 … F6) and the current screen.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ErrorText, useI18n, type MessageKey } from '@lapak/kit';
import type { AppState, ShiftView } from '../generated/api';
import { call, failureMessage } from '../ipc';
import { SCREENS, SessionProvider, type Route, type Screen, type Session } from '../session';
import { HeldBills } from './HeldBills';
import { History } from './History';
import { LanguageSwitch } from './LanguageSwitch';
import { Rejections } from './Rejections';
import { Returns } from './Returns';
import { Sell } from './Sell';
import { Shift } from './Shift';
import { ShiftGate } from './ShiftGate';
import { SyncBadge, useSyncBadge } from './SyncBadge';

const NAV: Record<Screen, { label: MessageKey; key: string }> = {
  sell: { label: 'nav.sell', key: 'F1' },
  held: { label: 'nav.held', key: 'F2' },
  history: { label: 'nav.history', key: 'F3' },
  returns: { label: 'nav.returns', key: 'F4' },
  shift: { label: 'nav.shift', key: 'F5' },
  rejections: { label: 'nav.rejections', key: 'F6' },
};

export function Main({ app, setApp }: { app: AppState; setApp: (app: AppState) => void }) {
  const { t } = useI18n();
  const [route, setRoute] = useState<Route>({ screen: 'sell' });
  const [badge, setBadge] = useSyncBadge();
  const [headerError, setHeaderError] = useState<string | null>(null);

  const setShift = useCallback(
    (shift: ShiftView | null) => setApp({ ...app, shift }),
    [app, setApp],
  );
  const session = useMemo<Session>(
    () => ({ app, setApp, setShift, go: setRoute }),
    [app, setApp, setShift],
  );

  useFunctionKeys(setRoute);

  const signOut = () => {
    setHeaderError(null);
    call('sign_out', {}).then(setApp, (thrown: unknown) => setHeaderError(failureMessage(thrown)));
  };

  return (
    <SessionProvider value={session}>
      <div className="app">
        <header className="app-header">
          <div className="header-brand">
            <span className="brand-mark">Lapak</span>
            {app.terminal && (
              <span className="header-terminal" data-testid="terminal-name">
                {app.terminal.branch} · {app.terminal.terminal}
                <span className="header-sub">{app.terminal.branch_name}</span>
              </span>
            )}
          </div>
          <SyncBadge badge={badge} onBadge={setBadge} onOpenRejections={() => setRoute({ screen: 'rejections' })} />
          <div className="header-user">
            {app.user && (
              <span className="header-cashier" data-testid="cashier">
                {app.user.name}
                <span className="header-sub">{app.user.role}</span>
              </span>
            )}
            <LanguageSwitch onChange={setApp} onError={setHeaderError} />
            <button type="button" className="button button-ghost-light" data-testid="sign-out" onClick={signOut}>
              {t('header.signOut')}
            </button>
          </div>
        </header>
        <nav className="app-nav" aria-label={t('nav.label')}>
          {SCREENS.map((screen) => (
            <button
              key={screen}
              type="button"
              className="nav-item"
              aria-current={route.screen === screen ? 'page' : undefined}
              data-testid={`nav-${screen}`}
              onClick={() => setRoute({ screen })}
            >
              <span className="nav-key">{NAV[screen].key}</span>
              {t(NAV[screen].label)}
              {screen === 'rejections' && badge && badge.rejected > 0 && (
                <span className="nav-count">{badge.rejected}</span>
              )}
            </button>
          ))}
        </nav>
        {headerError && (
          <div className="banner banner-error">
            <ErrorText message={headerError} testId="header-error" />
            <button type="button" className="button button-ghost" onClick={() => setHeaderError(null)}>
              {t('common.dismiss')}
            </button>
          </div>
        )}
        <main className="app-main">
          <CurrentScreen route={route} rejected={badge?.rejected ?? 0} />
        </main>
      </div>
    </SessionProvider>
  );
}

function CurrentScreen({ route, rejected }: { route: Route; rejected: number }) {
  switch (route.screen) {
    case 'sell':
      return (
        <ShiftGate>
          <Sell />
        </ShiftGate>
      );
    case 'held':
      return (
        <ShiftGate>
          <HeldBills />
        </ShiftGate>
      );
    case 'history':
      return <History />;
    case 'returns':
      return (
        <ShiftGate>
          <Returns key={route.invoice ?? ''} initialInvoice={route.invoice ?? ''} />
        </ShiftGate>
      );
    case 'shift':
      return <Shift />;
    case 'rejections':
      return <Rejections rejected={rejected} />;
  }
}

/** F1 … F6 switch screens (and never reach the web view: F5 would reload it, F3 find). */
function useFunctionKeys(go: (route: Route) => void) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const index = /^F([1-6])$/.exec(event.key)?.[1];
      if (!index) return;
      const screen = SCREENS[Number(index) - 1];
      if (!screen) return;
      event.preventDefault();
      go({ screen });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);
}
