/**
 * What the server refused (`rejections`): which record, why, and what the cashier should do.
 * Reloads when the badge's rejected count changes.
 */
import { useCallback, useEffect, useState } from 'react';
import { ErrorText, formatDateTime, useI18n } from '@lapak/kit';
import type { RejectionView } from '../generated/api';
import { useAction } from '../hooks';
import { call } from '../ipc';

/** The list stays small for the web view. */
const SHOWN = 200;

export function Rejections({ rejected }: { rejected: number }) {
  const { t, locale } = useI18n();
  const [items, setItems] = useState<RejectionView[] | null>(null);
  const { busy, error, run } = useAction();

  const load = useCallback(() => {
    void run(() => call('rejections', {})).then((found) => {
      if (found) setItems(found);
    });
  }, [run]);

  useEffect(load, [load, rejected]);

  return (
    <section className="screen" data-testid="rejections">
      <div className="screen-head">
        <h1 className="screen-title">{t('rejections.title')}</h1>
        <button type="button" className="button" onClick={load} disabled={busy}>
          {t('common.refresh')}
        </button>
      </div>
      <p className="muted">{t('rejections.intro')}</p>
      <ErrorText message={error} />
      {items && items.length === 0 && <p className="empty">{t('rejections.none')}</p>}
      {items && items.length > 0 && (
        <ul className="rejection-list">
          {items.slice(0, SHOWN).map((item, index) => (
            <li key={`${item.collection}-${item.record}-${index}`} className="rejection" data-testid="rejection">
              <div className="rejection-head">
                <span className="rejection-record">{item.record}</span>
                <span className="tag">{item.collection}</span>
                <span className="tag tag-error">{item.code}</span>
                <span className="muted rejection-time">{formatDateTime(item.rejected_at, locale)}</span>
              </div>
              <p className="rejection-message" data-testid="rejection-message">
                {item.message}
              </p>
              <p className="rejection-todo">
                <strong>{t('rejections.whatToDo')}</strong> {item.what_to_do}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
