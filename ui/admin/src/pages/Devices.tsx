/**
 * Devices: every device (POS terminals, phones, browser sessions) with its owner, app version,
 * when it was last seen and how far behind it is; administrators revoke a lost one here.
 * Refreshes every 15 seconds.
 */
import { useCallback, useState } from 'react';
import { Dialog, ErrorText, formatDateTime, groupThousands } from '@lapak/kit';
import { api } from '../api';
import { Pager } from '../components/Pager';
import { SearchBox } from '../components/SearchBox';
import { failureMessage } from '../failure';
import type { DeviceRow } from '../generated/api';
import { useT } from '../i18n';
import { useDebounced } from '../useDebounced';
import { useAction } from '../useAction';
import { usePolling } from '../usePolling';

const PAGE_SIZE = 50;
const REFRESH_MS = 15_000;
/** Seen within five minutes: online (as the Today page counts). */
const ONLINE_MS = 5 * 60 * 1000;
/** What the server counts up to per scope. */
const BEHIND_CAP = 10_000;

export function Devices({ canRevoke }: { canRevoke: boolean }) {
  const { t } = useT();
  const [search, setSearch] = useState('');
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const [offset, setOffset] = useState(0);
  const [revoking, setRevoking] = useState<DeviceRow | null>(null);
  const settledSearch = useDebounced(search, 300);
  const load = useCallback(
    () => api.devices({ search: settledSearch, include_revoked: includeRevoked, offset, limit: PAGE_SIZE }),
    [settledSearch, includeRevoked, offset],
  );
  const devices = usePolling(load, REFRESH_MS);
  const rows = devices.data?.rows ?? [];
  return (
    <section className="screen" data-testid="page-devices">
      <div className="screen-head">
        <h1 className="screen-title">{t('devices.title')}</h1>
      </div>
      <div className="toolbar">
        <SearchBox
          value={search}
          label={t('devices.search')}
          testId="devices-search"
          onSearch={(text) => {
            setSearch(text);
            setOffset(0);
          }}
        />
        <label className="check">
          <input
            type="checkbox"
            data-testid="devices-include-revoked"
            checked={includeRevoked}
            onChange={(e) => {
              setIncludeRevoked(e.target.checked);
              setOffset(0);
            }}
          />
          {t('devices.includeRevoked')}
        </label>
      </div>
      {devices.error !== null && <ErrorText message={failureMessage(devices.error, t)} />}
      <div className="card">
        <table className="table" data-testid="devices-table">
          <thead>
            <tr>
              <th>{t('devices.device')}</th>
              <th>{t('devices.user')}</th>
              <th>{t('devices.app')}</th>
              <th>{t('devices.lastSeen')}</th>
              <th className="num">{t('devices.behind')}</th>
              <th>{t('devices.status')}</th>
              {canRevoke && <th aria-label={t('devices.actions')} />}
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <DeviceLine
                key={d.id}
                device={d}
                asOf={devices.updatedAt ?? 0}
                canRevoke={canRevoke}
                onRevoke={() => setRevoking(d)}
              />
            ))}
          </tbody>
        </table>
        {devices.data !== null && (
          <Pager
            offset={offset}
            shown={rows.length}
            total={devices.data.total}
            pageSize={PAGE_SIZE}
            onOffset={setOffset}
          />
        )}
      </div>
      {revoking && (
        <RevokeDialog
          device={revoking}
          onClose={() => setRevoking(null)}
          onDone={() => {
            setRevoking(null);
            devices.reload();
          }}
        />
      )}
    </section>
  );
}

function DeviceLine({
  device: d,
  asOf,
  canRevoke,
  onRevoke,
}: {
  device: DeviceRow;
  /** When the list was fetched (ms). */
  asOf: number;
  canRevoke: boolean;
  onRevoke: () => void;
}) {
  const { t, locale } = useT();
  const online = d.last_seen_at !== null && asOf - d.last_seen_at < ONLINE_MS;
  return (
    <tr data-testid={`device-${d.id}`}>
      <td>
        {d.name} <span className="muted mono">{d.id.slice(0, 8)}</span>
      </td>
      <td>{d.username}</td>
      <td>{d.app_version ?? <span className="muted">—</span>}</td>
      <td>{d.last_seen_at === null ? <span className="muted">{t('devices.never')}</span> : formatDateTime(d.last_seen_at, locale)}</td>
      <td className="num" data-testid="device-behind">
        {d.behind === null ? (
          <span className="muted">{t('devices.neverPulled')}</span>
        ) : d.behind >= BEHIND_CAP ? (
          `${groupThousands(BEHIND_CAP)}+`
        ) : (
          groupThousands(d.behind)
        )}
      </td>
      <td data-testid="device-status">
        {d.revoked_at !== null ? (
          <span className="tag tag-error">{t('devices.revoked')}</span>
        ) : online ? (
          <span className="tag tag-ok">{t('devices.online')}</span>
        ) : (
          <span className="tag">{t('devices.offline')}</span>
        )}
      </td>
      {canRevoke && (
        <td>
          {d.revoked_at === null && (
            <button type="button" className="button button-danger" data-testid="device-revoke" onClick={onRevoke}>
              {t('devices.revoke')}
            </button>
          )}
        </td>
      )}
    </tr>
  );
}

function RevokeDialog({ device, onClose, onDone }: { device: DeviceRow; onClose: () => void; onDone: () => void }) {
  const { t } = useT();
  const { busy, error, run } = useAction(onDone);
  const revoke = () => run(() => api.revokeDevice(device.id));
  return (
    <Dialog title={t('devices.revokeTitle')} onClose={onClose} testId="revoke-dialog" closeLabel={t('common.close')}>
      <p>{t('devices.revokeText', { device: device.name, user: device.username })}</p>
      {error && <ErrorText message={error} />}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          className="button button-danger"
          data-testid="revoke-confirm"
          disabled={busy}
          autoFocus
          onClick={revoke}
        >
          {t('devices.revoke')}
        </button>
      </div>
    </Dialog>
  );
}
