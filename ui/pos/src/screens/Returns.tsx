/**
 * Returns: find the invoice (`receipt` by number), say how many of each line come back (never
 * more than was sold) and why, and `return_items`. Rust checks what earlier returns took back
 * and computes the refund, paid in cash.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorText, Field, Money, formatDateTime, parseQty, useI18n } from '@lapak/kit';
import type { Receipt, ReturnLineRequest, ReturnReceipt } from '../generated/api';
import { useAction } from '../hooks';
import { call } from '../ipc';
import { useSession } from '../session';

export function Returns({ initialInvoice }: { initialInvoice: string }) {
  const { t } = useI18n();
  const { setShift } = useSession();
  const [invoice, setInvoice] = useState(initialInvoice);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [done, setDone] = useState<ReturnReceipt | null>(null);
  const find = useAction();

  const lookUp = async (number: string) => {
    if (!number.trim()) return;
    setDone(null);
    const found = await find.run(() => call('receipt', { invoice: number.trim() }));
    setReceipt(found ?? null);
  };

  useEffect(() => {
    if (!initialInvoice) return;
    void find.run(() => call('receipt', { invoice: initialInvoice })).then((found) => setReceipt(found ?? null));
    // Only the invoice the screen was opened with; `find.run` is stable.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initialInvoice]);

  const onFind = (event: FormEvent) => {
    event.preventDefault();
    void lookUp(invoice);
  };

  return (
    <section className="screen" data-testid="returns">
      <h1 className="screen-title">{t('returns.title')}</h1>
      <form className="input-row returns-find" onSubmit={onFind}>
        <input
          className="input"
          data-testid="return-invoice"
          value={invoice}
          onChange={(e) => setInvoice(e.target.value)}
          placeholder={t('returns.invoicePlaceholder')}
          aria-label={t('returns.invoicePlaceholder')}
          autoFocus={!initialInvoice}
          autoComplete="off"
        />
        <button type="submit" className="button button-primary" data-testid="return-find" disabled={find.busy}>
          {t('returns.find')}
        </button>
      </form>
      <ErrorText message={find.error} />
      {done ? (
        <ReturnDone done={done} onAgain={() => void lookUp(done.invoice_number)} />
      ) : (
        receipt && (
          <ReturnForm
            key={receipt.id}
            receipt={receipt}
            onDone={setDone}
            onNoShift={() => setShift(null)}
          />
        )
      )}
    </section>
  );
}

function ReturnForm({
  receipt,
  onDone,
  onNoShift,
}: {
  receipt: Receipt;
  onDone: (done: ReturnReceipt) => void;
  onNoShift: () => void;
}) {
  const { t, locale } = useI18n();
  const [qty, setQty] = useState<string[]>(() => receipt.lines.map(() => ''));
  const [reason, setReason] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const { busy, error, run } = useAction((failure) => {
    if (failure.code === 'no_shift') onNoShift();
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setInvalid(null);
    const lines: ReturnLineRequest[] = [];
    for (const [index, line] of receipt.lines.entries()) {
      const text = qty[index] ?? '';
      if (text.trim() === '') continue;
      const count = parseQty(text);
      const most = line.qty - line.returned;
      if (count === null || count > most) {
        setInvalid(t('returns.badQty', { item: line.name, most }));
        return;
      }
      if (count > 0) lines.push({ sku: line.sku, qty: count });
    }
    if (lines.length === 0) {
      setInvalid(t('returns.nothing'));
      return;
    }
    const done = await run(() =>
      call('return_items', { invoice: receipt.id, lines, reason: reason.trim() || null }),
    );
    if (done) onDone(done);
  };

  return (
    <form className="card returns-form" onSubmit={(e) => void submit(e)} data-testid="return-form" noValidate>
      <div className="returns-invoice">
        <strong data-testid="return-invoice-number">{receipt.number}</strong>
        <span className="muted">{formatDateTime(receipt.sold_at, locale)}</span>
        <span>
          {t('totals.total')} <Money amount={receipt.total} />
        </span>
        {receipt.refunded > 0 && (
          <span className="tag tag-warn">
            {t('returns.alreadyRefunded')} <Money amount={receipt.refunded} />
          </span>
        )}
      </div>
      <table className="table">
        <thead>
          <tr>
            <th>{t('sell.item')}</th>
            <th className="num">{t('returns.sold')}</th>
            <th className="num">{t('returns.before')}</th>
            <th className="num">{t('sell.price')}</th>
            <th className="col-qty">{t('returns.back')}</th>
          </tr>
        </thead>
        <tbody>
          {receipt.lines.map((line, index) => (
            <tr key={`${index}-${line.sku}`} data-testid="return-line">
              <td>
                <div className="line-name">{line.name}</div>
                <div className="line-meta">{line.sku}</div>
              </td>
              <td className="num" data-testid="return-sold">
                {line.qty}
              </td>
              <td className="num" data-testid="return-before">
                {line.returned}
              </td>
              <td className="num">
                <Money amount={line.price} />
              </td>
              <td className="col-qty">
                <input
                  className="input input-qty"
                  type="number"
                  min={0}
                  max={line.qty - line.returned}
                  disabled={line.qty - line.returned <= 0}
                  step={1}
                  inputMode="numeric"
                  aria-label={t('returns.back')}
                  data-testid="return-qty"
                  value={qty[index] ?? ''}
                  placeholder="0"
                  onChange={(e) => setQty(qty.map((v, i) => (i === index ? e.target.value : v)))}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Field label={t('returns.reason')} wide>
        <input
          className="input"
          data-testid="return-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          placeholder={t('returns.reasonPlaceholder')}
        />
      </Field>
      <ErrorText message={invalid ?? error} />
      <button type="submit" className="button button-danger" disabled={busy} data-testid="return-submit">
        {t('returns.submit')}
      </button>
    </form>
  );
}

function ReturnDone({ done, onAgain }: { done: ReturnReceipt; onAgain: () => void }) {
  const { t } = useI18n();
  return (
    <div className="card return-receipt" data-testid="return-receipt">
      <h2>{t('returns.done', { invoice: done.invoice_number })}</h2>
      <ul className="receipt-lines">
        {done.lines.map((line, index) => (
          <li key={`${index}-${line.sku}`} className="receipt-row">
            <span>
              {line.qty} × {line.name}
            </span>
            <Money amount={line.total} />
          </li>
        ))}
      </ul>
      <div className="refund">
        <span>{t('returns.refund')}</span>
        <Money amount={done.refund} testId="return-refund" />
      </div>
      <button type="button" className="button" onClick={onAgain} data-testid="return-again">
        {t('returns.again')}
      </button>
    </div>
  );
}
