/** The signed-in layout: header (who, language, sign out), the menu, and the current page. */
import type { Locale } from '@lapak/kit';
import { api } from './api';
import type { WebSession } from './generated/api';
import { useT, type AdminKey } from './i18n';
import { LanguageSwitch } from './LanguageSwitch';
import { PAGES, hrefOf, useRoute, type Page } from './route';
import { Devices } from './pages/Devices';
import { Exceptions } from './pages/Exceptions';
import { MasterData } from './pages/MasterData';
import { Photos } from './pages/Photos';
import { Rejections } from './pages/Rejections';
import { Reports } from './pages/Reports';
import { Today } from './pages/Today';
import { Users } from './pages/Users';

/** Pages only administrators may use (the server refuses supervisors anyway). */
const ADMIN_ONLY: readonly Page[] = ['data', 'users', 'photos'];

const NAV: Record<Page, AdminKey> = {
  today: 'nav.today',
  reports: 'nav.reports',
  data: 'nav.data',
  users: 'nav.users',
  devices: 'nav.devices',
  rejections: 'nav.rejections',
  exceptions: 'nav.exceptions',
  photos: 'nav.photos',
};

export function Shell({
  session,
  locale,
  setLocale,
  onSignedOut,
}: {
  session: WebSession;
  locale: Locale;
  setLocale: (l: Locale) => void;
  onSignedOut: () => void;
}) {
  const { t } = useT();
  const [page, go] = useRoute();
  const signOut = () => {
    api.signOut().then(onSignedOut, onSignedOut);
  };
  return (
    <div className="app admin">
      <header className="app-header">
        <span className="header-brand">{t('app.title')}</span>
        <span className="header-user" data-testid="signed-in-as">
          {session.username} · {t(`header.role.${session.role}`)}
        </span>
        <LanguageSwitch locale={locale} setLocale={setLocale} />
        <button type="button" className="button button-ghost-light" data-testid="sign-out" onClick={signOut}>
          {t('header.signOut')}
        </button>
      </header>
      <nav className="app-nav" aria-label={t('nav.label')}>
        {PAGES.filter((p) => session.role === 'admin' || !ADMIN_ONLY.includes(p)).map((p) => (
          <a
            key={p}
            href={hrefOf(p)}
            className="nav-item"
            aria-current={p === page ? 'page' : undefined}
            data-testid={`nav-${p}`}
            onClick={(e) => {
              e.preventDefault();
              go(p);
            }}
          >
            {t(NAV[p])}
          </a>
        ))}
      </nav>
      <main className="app-main">
        <PageView page={page} session={session} />
      </main>
    </div>
  );
}

function PageView({ page, session }: { page: Page; session: WebSession }) {
  switch (page) {
    case 'today':
      return <Today />;
    case 'reports':
      return <Reports />;
    case 'data':
      return <MasterData />;
    case 'users':
      return <Users me={session.username} />;
    case 'devices':
      return <Devices canRevoke={session.role === 'admin'} />;
    case 'rejections':
      return <Rejections canSeePhotos={session.role === 'admin'} />;
    case 'exceptions':
      return <Exceptions canSeePhotos={session.role === 'admin'} />;
    case 'photos':
      return <Photos />;
  }
}
