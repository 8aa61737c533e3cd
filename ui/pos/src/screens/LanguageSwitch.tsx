/** ID | EN: sets the terminal's interface language in Rust (`set_locale`). */
import { useI18n, type Locale } from '@lapak/kit';
import type { AppState } from '../generated/api';
import { call, failureMessage } from '../ipc';

const LOCALES: Locale[] = ['id', 'en'];

export function LanguageSwitch({
  onChange,
  onError,
}: {
  onChange: (app: AppState) => void;
  onError: (message: string) => void;
}) {
  const { locale, t } = useI18n();
  const choose = (next: Locale) => {
    if (next === locale) return;
    call('set_locale', { locale: next }).then(onChange, (thrown: unknown) =>
      onError(failureMessage(thrown)),
    );
  };
  return (
    <div className="segmented" role="group" aria-label={t('header.language')} data-testid="language">
      {LOCALES.map((option) => (
        <button
          key={option}
          type="button"
          className="segmented-item"
          aria-pressed={option === locale}
          data-testid={`locale-${option}`}
          onClick={() => choose(option)}
        >
          {option.toUpperCase()}
        </button>
      ))}
    </div>
  );
}
