/**
 * Reports with charts: sales by branch by day, top items, payments by method, vouchers per
 * campaign, activities and visits per salesperson, stock per branch. Each over a period
 * (today, 7 or 30 days, or chosen dates), drawn as a bar chart over a table, and exported to
 * CSV by the server. Supervisors see their region's.
 */
import { useCallback, useState } from 'react';
import { ErrorText, formatMoney, groupThousands, type Locale } from '@lapak/kit';
import { api, reportCsvUrl } from '../api';
import { BarChart, type Bar } from '../components/BarChart';
import { failureMessage } from '../failure';
import type { Report, ReportKind } from '../generated/api';
import { useT, type AdminKey } from '../i18n';
import { usePolling } from '../usePolling';

const KINDS: ReportKind[] = ['sales_by_day', 'top_items', 'payments', 'vouchers', 'field_activity', 'stock'];
const DAY = 86_400_000;
const REFRESH_MS = 60_000;

const TITLES: Record<ReportKind, AdminKey> = {
  sales_by_day: 'reports.sales_by_day',
  top_items: 'reports.top_items',
  payments: 'reports.payments',
  vouchers: 'reports.vouchers',
  field_activity: 'reports.field_activity',
  stock: 'reports.stock',
};

/** The local midnight `days` days before today's (the browser's time zone). */
function midnight(daysAgo: number): number {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime() - daysAgo * DAY;
}

function dateInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function fromDateInput(text: string): number | null {
  const [y, m, d] = text.split('-').map(Number);
  if (!y || !m || !d) return null;
  return new Date(y, m - 1, d).getTime();
}

export function Reports() {
  const { t } = useT();
  const [kind, setKind] = useState<ReportKind>('sales_by_day');
  const [from, setFrom] = useState(() => midnight(6));
  const [to, setTo] = useState(() => midnight(-1));
  const load = useCallback(() => api.report(kind, from, to), [kind, from, to]);
  const report = usePolling(load, REFRESH_MS);
  const preset = (days: number) => {
    setFrom(midnight(days - 1));
    setTo(midnight(-1));
  };
  return (
    <section className="screen" data-testid="page-reports">
      <div className="screen-head">
        <h1 className="screen-title">{t('reports.title')}</h1>
      </div>
      <div className="tabs" role="tablist" aria-label={t('reports.title')}>
        {KINDS.map((k) => (
          <button key={k} type="button" role="tab" aria-selected={k === kind} className="tab" data-testid={`report-${k}`} onClick={() => setKind(k)}>
            {t(TITLES[k])}
          </button>
        ))}
      </div>
      <div className="toolbar">
        <button type="button" className="button" data-testid="period-today" onClick={() => preset(1)}>
          {t('reports.today')}
        </button>
        <button type="button" className="button" data-testid="period-7" onClick={() => preset(7)}>
          {t('reports.days', { n: 7 })}
        </button>
        <button type="button" className="button" data-testid="period-30" onClick={() => preset(30)}>
          {t('reports.days', { n: 30 })}
        </button>
        <input
          type="date"
          className="input input-date"
          aria-label={t('reports.from')}
          data-testid="period-from"
          value={dateInput(from)}
          onChange={(e) => {
            const ms = fromDateInput(e.target.value);
            if (ms !== null) setFrom(ms);
          }}
        />
        <span>–</span>
        <input
          type="date"
          className="input input-date"
          aria-label={t('reports.to')}
          data-testid="period-to"
          value={dateInput(to - DAY)}
          onChange={(e) => {
            const ms = fromDateInput(e.target.value);
            if (ms !== null) setTo(ms + DAY);
          }}
        />
        <a className="button" data-testid="report-csv" href={reportCsvUrl(kind, from, to)} download>
          {t('reports.csv')}
        </a>
      </div>
      {report.error !== null && <ErrorText message={failureMessage(report.error, t)} />}
      {report.data && report.data.kind === kind && <ReportView report={report.data} />}
    </section>
  );
}

/** A cell as people read it. */
function cell(v: string | number | null, kind: string, locale: Locale): string {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  switch (kind) {
    case 'money':
      return formatMoney(v);
    case 'day':
      return new Intl.DateTimeFormat(locale === 'id' ? 'id-ID' : 'en-GB', { day: '2-digit', month: 'short' }).format(new Date(v));
    default:
      return groupThousands(v);
  }
}

/** What the chart draws: per row, its first text (or day) against its first money, qty or count column. */
function barsOf(report: Report, locale: Locale): Bar[] {
  const labelAt = report.columns.findIndex((c) => c.kind === 'text' || c.kind === 'day');
  const measure =
    ['money', 'qty', 'count'].map((k) => report.columns.findIndex((c) => c.kind === k)).find((i) => i >= 0) ?? -1;
  if (labelAt < 0 || measure < 0) return [];
  const measureKind = report.columns[measure]?.kind ?? 'count';
  const labelKind = report.columns[labelAt]?.kind ?? 'text';
  if (report.kind === 'sales_by_day') {
    // One bar per day: the branches of a day added up (the table has them apart).
    const perDay = new Map<number, number>();
    for (const row of report.rows) {
      const day = Number(row[labelAt]);
      perDay.set(day, (perDay.get(day) ?? 0) + Number(row[measure] ?? 0));
    }
    return [...perDay].map(([day, total]) => ({ label: cell(day, 'day', locale), value: total, text: cell(total, 'money', locale) }));
  }
  return report.rows.map((row) => ({
    label: cell(row[labelAt] ?? null, labelKind, locale),
    value: Number(row[measure] ?? 0),
    text: cell(row[measure] ?? null, measureKind, locale),
  }));
}

function ReportView({ report }: { report: Report }) {
  const { t, locale } = useT();
  if (report.rows.length === 0) {
    return (
      <div className="card">
        <p className="muted" data-testid="report-empty">
          {t('reports.empty')}
        </p>
      </div>
    );
  }
  return (
    <div className="card" data-testid="report">
      <BarChart bars={barsOf(report, locale)} title={t(TITLES[report.kind])} testId="report-chart" />
      <div className="table-scroll">
        <table className="table" data-testid="report-table">
          <thead>
            <tr>
              {report.columns.map((c) => (
                <th key={c.key} className={c.kind === 'text' || c.kind === 'day' ? undefined : 'num'}>
                  {c.key}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {report.rows.map((row, i) => (
              <tr key={i} data-testid="report-row">
                {row.map((v, j) => {
                  const kind = report.columns[j]?.kind ?? 'text';
                  return (
                    <td key={j} className={kind === 'text' || kind === 'day' ? undefined : 'num'}>
                      {cell(v, kind, locale)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
