/**
 * Two interface languages, Indonesian (the default) and English, from two dictionaries with the
 * same keys: `en` is typed by `id`'s keys, so a key missing from either fails the type check.
 * Messages may hold `{name}` placeholders filled from `vars`.
 */
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { en } from './en';
import { id, type MessageKey } from './id';

export type { MessageKey } from './id';

/** The interface languages. */
export type Locale = 'id' | 'en';

/** Every language's dictionary. */
export const dictionaries: Record<Locale, Record<MessageKey, string>> = { id, en };

/** Values for a message's `{placeholders}`. */
export type Vars = Record<string, string | number>;

/** A message in `locale`, placeholders filled. */
export function translate(locale: Locale, key: MessageKey, vars?: Vars): string {
  const text = dictionaries[locale][key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/** `t(key, vars)` for the current language. */
export type Translate = (key: MessageKey, vars?: Vars) => string;

interface I18n {
  locale: Locale;
  t: Translate;
}

const I18nContext = createContext<I18n>({
  locale: 'id',
  t: (key, vars) => translate('id', key, vars),
});

/** Makes `locale` the language of everything below. */
export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  const value = useMemo<I18n>(
    () => ({ locale, t: (key, vars) => translate(locale, key, vars) }),
    [locale],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

/** The current language and its `t`. */
export function useI18n(): I18n {
  return useContext(I18nContext);
}
