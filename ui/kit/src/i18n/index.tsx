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

/** `text` with its `{placeholders}` filled from `vars` (unknown ones left as they are). */
export function fill(text: string, vars?: Vars): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/** A message of the POS's dictionaries in `locale`, placeholders filled. */
export function translate(locale: Locale, key: MessageKey, vars?: Vars): string {
  return fill(dictionaries[locale][key], vars);
}

/** `t(key, vars)` for the current language. */
export type Translate<K extends string = MessageKey> = (key: K, vars?: Vars) => string;

/** Every language's dictionary of an app whose messages have keys `K`. */
export type Dictionaries<K extends string> = Record<Locale, Record<K, string>>;

interface I18nValue {
  locale: Locale;
  dictionaries: Dictionaries<string>;
}

const I18nContext = createContext<I18nValue>({ locale: 'id', dictionaries });

/**
 * Makes `locale` the language of everything below, with an app's `messages` (the POS's when
 * none are given: the admin web brings its own).
 */
export function I18nProvider({
  locale,
  messages,
  children,
}: {
  locale: Locale;
  messages?: Dictionaries<string>;
  children: ReactNode;
}) {
  const value = useMemo<I18nValue>(
    () => ({ locale, dictionaries: messages ?? dictionaries }),
    [locale, messages],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

/** The current language and its `t`, for messages with keys `K` (the POS's by default). */
export function useI18n<K extends string = MessageKey>(): { locale: Locale; t: Translate<K> } {
  const { locale, dictionaries: dicts } = useContext(I18nContext);
  return useMemo(
    () => ({ locale, t: (key: K, vars?: Vars) => fill(dicts[locale][key] ?? key, vars) }),
    [locale, dicts],
  );
}
