/**
 * The always-visible sync badge: offline / online / live, local writes the server has not
 * stored yet, when the last sync finished, and how many entries the server refused (opens the
 * Rejections panel). Fed by `sync_status` and the `lapak://status` event.
 */
import { useCallback, useEffect, useState } from 'react';
import { formatTime, useI18n, type MessageKey } from '@lapak/kit';
import type { Connection, SyncBadge as Badge } from '../generated/api';
import { useEvent } from '../hooks';
import { call, failureMessage } from '../ipc';

const CONNECTION_LABEL: Record<Connection, MessageKey> = {
  offline: 'sync.offline',
  online: 'sync.online',
  live: 'sync.live',
};

/** The badge as Rust last told it; `null` until the first answer. */
export function useSyncBadge() {
  const [badge, setBadge] = useState<Badge | null>(null);
  useEffect(() => {
    call('sync_status', {}).then(setBadge, (thrown: unknown) => {
      console.warn('sync_status:', failureMessage(thrown));
    });
  }, []);
  useEvent('lapak://status', setBadge);
  return [badge, setBadge] as const;
}

export function SyncBadge({
  badge,
  onBadge,
  onOpenRejections,
}: {
  badge: Badge | null;
  onBadge: (badge: Badge) => void;
  onOpenRejections: () => void;
}) {
  const { t, locale } = useI18n();
  const [syncing, setSyncing] = useState(false);

  const syncNow = useCallback(() => {
    setSyncing(true);
    call('sync_now', {})
      .then(onBadge, (thrown: unknown) => console.warn('sync_now:', failureMessage(thrown)))
      .finally(() => setSyncing(false));
  }, [onBadge]);

  if (!badge) {
    return (
      <div className="sync-badge" data-testid="sync-badge" data-connection="unknown">
        <span className="sync-dot" aria-hidden="true" />
        <span className="sync-state">{t('sync.checking')}</span>
      </div>
    );
  }

  const lastSync = badge.last_sync === null ? t('sync.never') : formatTime(badge.last_sync, locale);
  return (
    <div
      className="sync-badge"
      data-testid="sync-badge"
      data-connection={badge.connection}
      title={badge.error ?? undefined}
    >
      <span className="sync-dot" aria-hidden="true" />
      <span className="sync-state" data-testid="sync-connection">
        {t(CONNECTION_LABEL[badge.connection])}
      </span>
      <span className={badge.pending > 0 ? 'sync-pending sync-pending-some' : 'sync-pending'}>
        <strong data-testid="sync-pending">{badge.pending}</strong> {t('sync.pending')}
      </span>
      <span className="sync-last" data-testid="sync-last">
        {t('sync.last', { time: lastSync })}
      </span>
      <button
        type="button"
        className={badge.rejected > 0 ? 'sync-rejected sync-rejected-some' : 'sync-rejected'}
        data-testid="sync-rejected"
        onClick={onOpenRejections}
      >
        {t('sync.rejected', { count: badge.rejected })}
      </button>
      <button
        type="button"
        className="sync-now"
        data-testid="sync-now"
        onClick={syncNow}
        disabled={syncing}
        aria-label={t('sync.now')}
        title={t('sync.now')}
      >
        ⟳
      </button>
    </div>
  );
}
