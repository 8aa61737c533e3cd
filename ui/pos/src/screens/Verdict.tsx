/** Where an entry stands with the server: waiting, accepted, or refused with its message. */
import { useI18n, type MessageKey } from '@lapak/kit';
import type { ServerVerdict } from '../generated/api';

const LABEL: Record<ServerVerdict['state'], MessageKey> = {
  pending: 'verdict.pending',
  accepted: 'verdict.accepted',
  rejected: 'verdict.rejected',
};

export function Verdict({ verdict, testId }: { verdict: ServerVerdict; testId?: string }) {
  const { t } = useI18n();
  return (
    <span className={`verdict verdict-${verdict.state}`} data-testid={testId} data-state={verdict.state}>
      {t(LABEL[verdict.state])}
      {verdict.state === 'rejected' && <span className="verdict-message">: {verdict.message}</span>}
    </span>
  );
}
