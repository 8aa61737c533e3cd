/**
 * A request a dialog sends (revoke, resolve, save): busy while it runs, then `onDone`; a
 * refusal is kept as the message to show, and the dialog stays open with what was typed.
 */
import { useState } from 'react';
import { failureMessage } from './failure';
import { useT } from './i18n';

export function useAction(onDone: () => void) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = (send: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    send().then(onDone, (thrown: unknown) => {
      setError(failureMessage(thrown, t));
      setBusy(false);
    });
  };
  return { busy, error, setError, run };
}
