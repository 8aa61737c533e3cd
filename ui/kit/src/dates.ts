/**
 * Times from Rust (milliseconds since the Unix epoch) in the terminal's local time zone, in
 * the interface language's usual order.
 */
import type { Locale } from './i18n';

const TAGS: Record<Locale, string> = { id: 'id-ID', en: 'en-GB' };

/** `01/12/2026 14.05` (id) or `01/12/2026, 14:05` (en). */
export function formatDateTime(ms: number, locale: Locale): string {
  return new Intl.DateTimeFormat(TAGS[locale], {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(ms));
}

/** `14.05` (id) or `14:05` (en). */
export function formatTime(ms: number, locale: Locale): string {
  return new Intl.DateTimeFormat(TAGS[locale], { hour: '2-digit', minute: '2-digit' }).format(
    new Date(ms),
  );
}
