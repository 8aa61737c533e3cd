/** What the scan box makes of what was typed. */

/**
 * Whether `text` looks like something to scan rather than words to search: digits (a barcode
 * from the scanner), or one SKU-like token with a digit in it (`SKU-000001`, `AB12`).
 */
export function looksLikeCode(text: string): boolean {
  const query = text.trim();
  if (/^\d+$/.test(query)) return true;
  return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(query) && /\d/.test(query);
}

/** Whether a key press typed one visible character (no space, no Ctrl/Alt/Meta chord). */
export function isTypingKey(event: KeyboardEvent): boolean {
  return event.key.length === 1 && event.key !== ' ' && !event.ctrlKey && !event.altKey && !event.metaKey;
}

/** Whether the element takes typed text itself (so typing there must not go to the scan box). */
export function takesText(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}
