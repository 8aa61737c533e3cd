/**
 * A receipt as Rust recorded it, on screen and on paper. Print sends only the receipt to the
 * printer (a copy outside the app's layout, sized for 58 and 80 mm roll paper).
 */
import type { ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { Money, formatDateTime, useI18n, type MessageKey } from '@lapak/kit';
import type { PaymentMethod, Receipt } from '../generated/api';
import { Verdict } from './Verdict';

export const METHOD_LABEL: Record<PaymentMethod, MessageKey> = {
  cash: 'pay.cash',
  card: 'pay.card',
  qris: 'pay.qris',
  transfer: 'pay.transfer',
  ewallet: 'pay.ewallet',
  credit: 'pay.credit',
};

export function ReceiptView({
  receipt,
  reprint,
  children,
}: {
  receipt: Receipt;
  /** Label the print button "Reprint". */
  reprint?: boolean;
  children?: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <div className="receipt-screen">
      <ReceiptPaper receipt={receipt} testIds />
      <div className="receipt-actions">
        <button type="button" className="button button-primary" onClick={() => window.print()} data-testid="print">
          {reprint ? t('receipt.reprint') : t('receipt.print')}
        </button>
        {children}
      </div>
      {createPortal(
        <div className="print-copy" aria-hidden="true">
          <ReceiptPaper receipt={receipt} testIds={false} />
        </div>,
        document.body,
      )}
    </div>
  );
}

function ReceiptPaper({ receipt, testIds }: { receipt: Receipt; testIds: boolean }) {
  const { t, locale } = useI18n();
  const id = (name: string) => (testIds ? name : undefined);
  return (
    <article className="receipt-paper" data-testid={id('receipt')}>
      <header className="receipt-head">
        <div className="receipt-shop">{receipt.branch_name}</div>
        <div>
          {receipt.branch} · {receipt.terminal}
        </div>
        <div className="receipt-number" data-testid={id('receipt-number')}>
          {receipt.number}
        </div>
        <div>{formatDateTime(receipt.sold_at, locale)}</div>
        <div>
          {t('receipt.cashier')}: {receipt.cashier}
        </div>
        {receipt.customer && (
          <div>
            {t('receipt.customer')}: {receipt.customer_name ? `${receipt.customer_name} (${receipt.customer})` : receipt.customer}
          </div>
        )}
      </header>
      <ul className="receipt-lines" data-testid={id('receipt-lines')}>
        {receipt.lines.map((line, index) => (
          <li key={`${index}-${line.sku}`} className="receipt-line">
            <div className="receipt-line-name">{line.name}</div>
            <div className="receipt-row">
              <span>
                {line.qty} × <Money amount={line.price} />
              </span>
              <Money amount={line.total} />
            </div>
            {line.discount > 0 && (
              <div className="receipt-row receipt-sub">
                <span>{t('receipt.discount')}</span>
                <Money amount={-line.discount} />
              </div>
            )}
          </li>
        ))}
      </ul>
      <dl className="receipt-totals">
        <Row label={t('totals.subtotal')}>
          <Money amount={receipt.subtotal} />
        </Row>
        {receipt.discount > 0 && (
          <Row label={t('receipt.discounts')}>
            <Money amount={-receipt.discount} />
          </Row>
        )}
        <Row label={t('totals.tax')}>
          <Money amount={receipt.tax} />
        </Row>
        <Row label={t('totals.total')} strong>
          <Money amount={receipt.total} testId={id('receipt-total')} />
        </Row>
        {receipt.payments.map((payment, index) => (
          <Row key={`${index}-${payment.method}`} label={t(METHOD_LABEL[payment.method])}>
            <Money amount={payment.amount} />
          </Row>
        ))}
        {receipt.cash_tendered > 0 && (
          <Row label={t('receipt.cashTendered')}>
            <Money amount={receipt.cash_tendered} />
          </Row>
        )}
        {receipt.cash_tendered > 0 && (
          <Row label={t('receipt.change')} strong>
            <Money amount={receipt.change} testId={id('receipt-change')} />
          </Row>
        )}
        {receipt.refunded > 0 && (
          <Row label={t('receipt.refunded')}>
            <Money amount={-receipt.refunded} />
          </Row>
        )}
      </dl>
      {receipt.voucher && (
        <div className="receipt-voucher" data-testid={id('receipt-voucher')}>
          <div className="receipt-row">
            <span>
              {t('receipt.voucher')} {receipt.voucher.code}
            </span>
            <Money amount={-receipt.voucher.discount} />
          </div>
          <Verdict verdict={receipt.voucher.verdict} testId={id('receipt-voucher-verdict')} />
        </div>
      )}
      <footer className="receipt-foot">
        <div className="receipt-verdict">
          {t('receipt.invoiceStatus')}: <Verdict verdict={receipt.verdict} testId={id('receipt-verdict')} />
        </div>
        <div className="receipt-thanks">{t('receipt.thanks')}</div>
      </footer>
    </article>
  );
}

function Row({ label, children, strong }: { label: string; children: ReactNode; strong?: boolean }) {
  return (
    <div className={strong ? 'receipt-row receipt-strong' : 'receipt-row'}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
