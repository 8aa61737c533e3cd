/**
 * This branch's invoices, newest first (`history`), searchable by number or customer; one
 * opens as its receipt (`receipt`) to reprint or to take items back.
 */
import { useEffect, useState } from 'react';
import { ErrorText, Money, formatDateTime, useI18n } from '@lapak/kit';
import type { InvoiceSummary, Receipt } from '../generated/api';
import { useAction, useDebounced, useEvent } from '../hooks';
import { call } from '../ipc';
import { useSession } from '../session';
import { ReceiptView } from './ReceiptView';
import { Verdict } from './Verdict';

/** Rows per page, and the most the list ever shows (the web view slows with big tables). */
const PAGE = 50;
const MOST = 200;

export function History() {
  const { t, locale } = useI18n();
  const { go } = useSession();
  const [query, setQuery] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const [rows, setRows] = useState<InvoiceSummary[] | null>(null);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [stamp, setStamp] = useState(0);
  const settled = useDebounced(query.trim(), 200);
  const list = useAction();
  const open = useAction();

  useEffect(() => {
    void list.run(() => call('history', { query: settled || null, limit })).then((found) => {
      if (found) setRows(found);
    });
    // `list.run` is stable; `stamp` asks for a reload.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [settled, limit, stamp]);

  useEvent('lapak://changed', () => setStamp((n) => n + 1));

  const show = async (id: string) => {
    const found = await open.run(() => call('receipt', { invoice: id }));
    if (found) setReceipt(found);
  };

  return (
    <section className="screen history" data-testid="history">
      <div className="history-list">
        <div className="screen-head">
          <h1 className="screen-title">{t('history.title')}</h1>
        </div>
        <input
          className="input"
          data-testid="history-search"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setLimit(PAGE);
          }}
          placeholder={t('history.searchPlaceholder')}
          aria-label={t('history.searchPlaceholder')}
          autoFocus
          autoComplete="off"
        />
        <ErrorText message={list.error} />
        {rows && rows.length === 0 && <p className="empty">{t('history.none')}</p>}
        {rows && rows.length > 0 && (
          <ul className="rows" data-testid="history-list">
            {rows.map((row) => (
              <li key={row.id}>
                <button
                  type="button"
                  className={receipt?.id === row.id ? 'row-button row-button-active' : 'row-button'}
                  data-testid="history-row"
                  onClick={() => void show(row.id)}
                >
                  <span className="row-main">
                    <span className="row-title">{row.number}</span>
                    <span className="row-sub">
                      {formatDateTime(row.sold_at, locale)} · {row.terminal}
                      {row.customer ? ` · ${row.customer}` : ''}
                    </span>
                  </span>
                  <span className="row-side">
                    <Money amount={row.total} />
                    <Verdict verdict={row.verdict} />
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {rows && rows.length >= limit && limit < MOST && (
          <button type="button" className="button" data-testid="history-more" onClick={() => setLimit(limit + PAGE)}>
            {t('history.more')}
          </button>
        )}
      </div>
      <div className="history-detail">
        <ErrorText message={open.error} />
        {receipt ? (
          <ReceiptView receipt={receipt} reprint>
            <button
              type="button"
              className="button"
              data-testid="receipt-return"
              onClick={() => go({ screen: 'returns', invoice: receipt.number })}
            >
              {t('history.returnItems')}
            </button>
          </ReceiptView>
        ) : (
          <p className="empty">{t('history.pick')}</p>
        )}
      </div>
    </section>
  );
}
