/** A failure as people read it: known client-side codes translated, the server's message otherwise. */
import { IpcError } from '@lapak/kit';
import { NETWORK } from './api';
import type { AdminKey } from './i18n';

export function failureMessage(thrown: unknown, t: (key: AdminKey) => string): string {
  if (thrown instanceof IpcError) {
    if (thrown.code === NETWORK) return t('error.network');
    return thrown.message;
  }
  return thrown instanceof Error ? thrown.message : String(thrown);
}
