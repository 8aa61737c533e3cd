/**
 * Today: sales by branch since the business's midnight, devices online and silent, open
 * exceptions, rejections of the last day and the outbox's backlog; refreshed every 10 seconds.
 */
import { ErrorText, formatMoney, formatTime, groupThousands } from '@lapak/kit';
import { api } from '../api';
import { failureMessage } from '../failure';
import type { BranchSales } from '../generated/api';
import { useT } from '../i18n';
import { usePolling } from '../usePolling';

const REFRESH_MS = 10_000;

export function Today() {
  const { t, locale } = useT();
  const today = usePolling(api.today, REFRESH_MS);
  const data = today.data;
  return (
    <section className="screen" data-testid="page-today">
      <div className="screen-head">
        <h1 className="screen-title">{t('today.title')}</h1>
        {today.updatedAt !== null && (
          <span className="muted" data-testid="updated-at">
            {t('common.updatedAt', { time: formatTime(today.updatedAt, locale) })}
          </span>
        )}
      </div>
      {today.error !== null && <ErrorText message={failureMessage(today.error, t)} />}
      {data === null ? (
        today.error === null && <p className="muted">{t('common.loading')}</p>
      ) : (
        <>
          <div className="tiles">
            <Tile
              label={t('today.salesTotal')}
              value={formatMoney(data.sales.reduce((sum, b) => sum + b.total, 0))}
              sub={t('today.invoices', {
                count: groupThousands(data.sales.reduce((sum, b) => sum + b.invoices, 0)),
              })}
              testId="tile-sales"
            />
            <Tile
              label={t('today.devicesOnline')}
              value={groupThousands(data.devices.online)}
              sub={t('today.devicesOf', { count: groupThousands(data.devices.active) })}
              testId="tile-devices"
            />
            <Tile label={t('today.devicesSilent')} value={groupThousands(data.devices.silent)} testId="tile-silent" />
            <Tile label={t('today.openExceptions')} value={groupThousands(data.open_exceptions)} testId="tile-exceptions" />
            <Tile label={t('today.rejections')} value={groupThousands(data.rejections_last_day)} testId="tile-rejections" />
            <Tile
              label={t('today.outbox')}
              value={data.outbox_backlog === null ? '—' : groupThousands(data.outbox_backlog)}
              sub={data.outbox_backlog === null ? t('today.outboxHidden') : undefined}
              testId="tile-outbox"
            />
          </div>
          <SalesByBranch sales={data.sales} />
        </>
      )}
    </section>
  );
}

function Tile({ label, value, sub, testId }: { label: string; value: string; sub?: string; testId: string }) {
  return (
    <div className="card tile" data-testid={testId}>
      <span className="tile-label">{label}</span>
      <span className="tile-value" data-testid={`${testId}-value`}>
        {value}
      </span>
      {sub && <span className="muted">{sub}</span>}
    </div>
  );
}

function SalesByBranch({ sales }: { sales: BranchSales[] }) {
  const { t } = useT();
  const top = Math.max(1, ...sales.map((b) => b.total));
  return (
    <div className="card">
      <h2 className="card-title">{t('today.salesTitle')}</h2>
      {sales.length === 0 ? (
        <p className="muted" data-testid="no-sales">
          {t('today.noSales')}
        </p>
      ) : (
        <table className="table" data-testid="sales-by-branch">
          <thead>
            <tr>
              <th>{t('today.branch')}</th>
              <th className="num">{t('today.invoiceCount')}</th>
              <th className="num">{t('today.amount')}</th>
              <th aria-hidden="true" />
            </tr>
          </thead>
          <tbody>
            {sales.map((b) => (
              <tr key={b.branch} data-testid={`sales-${b.branch}`}>
                <td>
                  {b.name} <span className="muted">{b.branch}</span>
                </td>
                <td className="num">{groupThousands(b.invoices)}</td>
                <td className="num">{formatMoney(b.total)}</td>
                <td className="bar-cell" aria-hidden="true">
                  <svg className="bar" viewBox="0 0 100 10" preserveAspectRatio="none">
                    <rect width={(100 * b.total) / top} height="10" />
                  </svg>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
