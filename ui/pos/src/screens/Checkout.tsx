/**
 * Checkout: take tenders (cash, card, QRIS, transfer, e-wallet, credit to the customer) until
 * the total is covered, then `checkout`. What is still due and the change shown while taking
 * tenders are display arithmetic on Rust's total; Rust checks the payments and records the
 * change on the receipt.
 *
 * Keys: the amount field starts at what is still due; Enter adds it as a tender, and Enter on
 * an empty field with nothing due confirms. So Pay (F9), Enter, Enter is an exact cash sale.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Dialog, ErrorText, Money, formatMoney, parseRupiah, useI18n } from '@lapak/kit';
import type { CartView, PaymentMethod, Receipt, Tender } from '../generated/api';
import { useAction } from '../hooks';
import { call } from '../ipc';
import { METHOD_LABEL } from './ReceiptView';

const METHODS: PaymentMethod[] = ['cash', 'card', 'qris', 'transfer', 'ewallet', 'credit'];

/** Banknote steps offered as quick cash amounts. */
const QUICK_STEPS = [50_000, 100_000];

/** Quick cash amounts for `due`: exact, then the next Rp 50.000 and Rp 100.000 above it. */
export function quickCash(due: number): number[] {
  if (due <= 0) return [];
  const amounts = [due];
  for (const step of QUICK_STEPS) {
    let next = Math.ceil(due / step) * step;
    if (next === due) next += step;
    if (!amounts.includes(next)) amounts.push(next);
  }
  return amounts;
}

function paidSoFar(tenders: Tender[]): number {
  return tenders.reduce((sum, tender) => sum + tender.amount, 0);
}

export function Checkout({
  cart,
  onClose,
  onPaid,
}: {
  cart: CartView;
  onClose: () => void;
  onPaid: (receipt: Receipt) => void;
}) {
  const { t } = useI18n();
  const [tenders, setTenders] = useState<Tender[]>([]);
  const [method, setMethod] = useState<PaymentMethod>('cash');
  const [amount, setAmount] = useState(String(cart.total));
  const amountRef = useRef<HTMLInputElement>(null);
  const { busy, error, setError, run } = useAction();

  // After a tender or a method change the field holds what is still due, selected: typing
  // replaces it, Enter takes it.
  useEffect(() => {
    amountRef.current?.focus();
    amountRef.current?.select();
  }, [tenders.length, method]);

  const paid = paidSoFar(tenders);
  const due = Math.max(0, cart.total - paid);
  const hasCash = tenders.some((tender) => tender.method === 'cash');
  const change = hasCash ? Math.max(0, paid - cart.total) : 0;
  const typed = parseRupiah(amount);

  const addTender = (value: number, how: PaymentMethod = method) => {
    if (value <= 0) return;
    const next = [...tenders, { method: how, amount: value }];
    const left = Math.max(0, cart.total - paidSoFar(next));
    setTenders(next);
    setAmount(left > 0 ? String(left) : '');
    setMethod('cash');
    setError(null);
  };

  const removeTender = (index: number) => {
    const next = tenders.filter((_, i) => i !== index);
    setTenders(next);
    setAmount(String(Math.max(0, cart.total - paidSoFar(next))));
  };

  const confirm = async () => {
    if (tenders.length === 0) return;
    const receipt = await run(() => call('checkout', { tenders }));
    if (receipt) onPaid(receipt);
  };

  // Enter in the amount field (a key handler: the form has no enabled default button when the
  // field is empty, so implicit submission would not fire).
  const onEnter = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    if (typed !== null && typed > 0) addTender(typed);
    else if (due === 0 && tenders.length > 0) void confirm();
    else if (amount.trim() !== '') setError(t('common.badAmount'));
  };

  const chooseMethod = (next: PaymentMethod) => {
    setMethod(next);
    amountRef.current?.focus();
    amountRef.current?.select();
  };

  return (
    <Dialog title={t('checkout.title')} onClose={onClose} testId="checkout" closeLabel={t('common.close')}>
      <div className="checkout">
        <div className="checkout-summary">
          <div className="checkout-figure">
            <span>{t('totals.total')}</span>
            <Money amount={cart.total} testId="checkout-total" />
          </div>
          <div className="checkout-figure">
            <span>{t('checkout.paid')}</span>
            <Money amount={paid} testId="checkout-paid" />
          </div>
          <div className={due > 0 ? 'checkout-figure checkout-due' : 'checkout-figure'}>
            <span>{t('checkout.due')}</span>
            <Money amount={due} testId="still-due" />
          </div>
          {change > 0 && (
            <div className="checkout-figure checkout-change">
              <span>{t('checkout.change')}</span>
              <Money amount={change} testId="change-due" />
            </div>
          )}
        </div>

        <div className="methods" role="group" aria-label={t('checkout.method')}>
          {METHODS.map((option) => (
            <button
              key={option}
              type="button"
              className="method"
              aria-pressed={method === option}
              data-testid={`method-${option}`}
              disabled={option === 'credit' && !cart.customer}
              title={option === 'credit' && !cart.customer ? t('checkout.creditNeedsCustomer') : undefined}
              onClick={() => chooseMethod(option)}
            >
              {t(METHOD_LABEL[option])}
            </button>
          ))}
        </div>

        <div className="tender-form">
          <label className="field field-wide">
            <span className="field-label">{t('checkout.amount', { method: t(METHOD_LABEL[method]) })}</span>
            <input
              ref={amountRef}
              className="input input-money input-big"
              inputMode="numeric"
              data-testid="tender-amount"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              onKeyDown={onEnter}
              onFocus={(e) => e.currentTarget.select()}
              autoFocus
              autoComplete="off"
            />
          </label>
          <button
            type="button"
            className="button"
            data-testid="tender-add"
            disabled={typed === null || typed <= 0}
            onClick={() => typed !== null && addTender(typed)}
          >
            {t('checkout.addTender')}
          </button>
          <span className="tender-preview">{typed !== null && typed > 0 ? formatMoney(typed) : ''}</span>
        </div>

        {due > 0 && (
          <div className="quick-cash" role="group" aria-label={t('checkout.quickCash')}>
            {quickCash(due).map((value, index) => (
              <button
                key={value}
                type="button"
                className="button button-quick"
                data-testid={index === 0 ? 'quick-exact' : 'quick-cash'}
                onClick={() => addTender(value, 'cash')}
              >
                {index === 0 ? t('checkout.exact') : formatMoney(value)}
              </button>
            ))}
          </div>
        )}

        {tenders.length > 0 && (
          <ul className="tenders" data-testid="tenders">
            {tenders.map((tender, index) => (
              <li key={index} className="tender" data-testid="tender">
                <span>{t(METHOD_LABEL[tender.method])}</span>
                <Money amount={tender.amount} />
                <button
                  type="button"
                  className="button button-square button-ghost-danger"
                  aria-label={t('sell.remove')}
                  onClick={() => removeTender(index)}
                >
                  ✕
                </button>
              </li>
            ))}
          </ul>
        )}

        <ErrorText message={error} />

        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            className="button button-pay"
            data-testid="checkout-confirm"
            disabled={busy || tenders.length === 0}
            onClick={() => void confirm()}
          >
            {busy ? t('checkout.paying') : t('checkout.confirm')}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
