/**
 * The admin web's messages in Indonesian (the default) and English, on the kit's i18n: `useT()`
 * is the kit's `useI18n` typed with this app's keys.
 */
import { useI18n, type Dictionaries, type Locale } from '@lapak/kit';
import { en } from './en';
import { id, type AdminKey } from './id';

export type { AdminKey } from './id';

/** Both languages' dictionaries, for the kit's `I18nProvider`. */
export const messages: Dictionaries<AdminKey> = { id, en };

/** The current language and `t` for the admin web's keys. */
export function useT() {
  return useI18n<AdminKey>();
}

const LOCALE_KEY = 'lapak.admin.locale';

/** The language chosen last on this browser (Indonesian at first). */
export function savedLocale(): Locale {
  return localStorage.getItem(LOCALE_KEY) === 'en' ? 'en' : 'id';
}

/** Remembers the language on this browser. */
export function saveLocale(locale: Locale) {
  localStorage.setItem(LOCALE_KEY, locale);
}
