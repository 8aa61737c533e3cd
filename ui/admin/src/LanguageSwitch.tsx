/** Indonesian or English, remembered on this browser. */
import type { Locale } from '@lapak/kit';
import { useT } from './i18n';

const LOCALES: { locale: Locale; label: string }[] = [
  { locale: 'id', label: 'ID' },
  { locale: 'en', label: 'EN' },
];

export function LanguageSwitch({ locale, setLocale }: { locale: Locale; setLocale: (l: Locale) => void }) {
  const { t } = useT();
  return (
    <div className="segmented" role="group" aria-label={t('header.language')}>
      {LOCALES.map((l) => (
        <button
          key={l.locale}
          type="button"
          className="segmented-item"
          aria-pressed={locale === l.locale}
          data-testid={`locale-${l.locale}`}
          onClick={() => setLocale(l.locale)}
        >
          {l.label}
        </button>
      ))}
    </div>
  );
}
