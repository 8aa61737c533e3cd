/**
 * `@lapak/kit`: what the POS page and the admin web share: typed IPC helpers, the two
 * interface languages, money and date formats, and small components.
 */
export { createIpc, IpcError, normalizeError } from './ipc';
export type { CommandShape, ErrorCodes, Ipc, Transport } from './ipc';
export { I18nProvider, dictionaries, fill, translate, useI18n } from './i18n';
export type { Dictionaries, Locale, MessageKey, Translate, Vars } from './i18n';
export { formatMoney, groupThousands, parseQty, parseRupiah } from './money';
export { formatDateTime, formatTime } from './dates';
export { Dialog } from './components/Dialog';
export { ErrorText } from './components/ErrorText';
export { Field } from './components/Field';
export { Money } from './components/Money';
