/**
 * The cart's side panel: customer, voucher, bill discount, the totals Rust computed, notices,
 * and the actions (hold, clear, pay).
 */
import { useEffect, useState, type ReactNode } from 'react';
import { ErrorText, Money, parseRupiah, useI18n } from '@lapak/kit';
import type { CartIntent, CartView } from '../generated/api';
import { failureMessage, type CommandFailure } from '../ipc';
import { CustomerPicker } from './CustomerPicker';

/** Sends an intent; resolves with the new cart, or the failure. */
export type SendCart = (intent: CartIntent, options?: { quiet?: boolean }) => Promise<CartView | CommandFailure>;

export function CartSide({
  cart,
  send,
  onPay,
  onHold,
}: {
  cart: CartView;
  send: SendCart;
  onPay: () => void;
  onHold: () => void;
}) {
  const { t } = useI18n();
  const empty = cart.lines.length === 0;
  return (
    <aside className="sell-side">
      <div className="side-top">
        <CustomerPicker customer={cart.customer} send={send} />
        <VoucherBox cart={cart} send={send} />
        <BillDiscount cart={cart} send={send} />
        {cart.notices.length > 0 && (
          <ul className="notices" data-testid="cart-notices">
            {cart.notices.map((notice) => (
              <li key={notice}>{notice}</li>
            ))}
          </ul>
        )}
      </div>
      <div className="side-bottom">
        <Totals cart={cart} />
        <div className="side-actions-row">
          <button type="button" className="button" onClick={onHold} disabled={empty} data-testid="hold">
            {t('sell.hold')}
          </button>
          <ClearButton disabled={empty && !cart.customer && !cart.voucher} onClear={() => void send({ intent: 'clear' })} />
        </div>
        <button type="button" className="button button-pay" onClick={onPay} disabled={empty} data-testid="pay">
          <span>{t('sell.pay')}</span>
          <span className="button-key">F9</span>
        </button>
      </div>
    </aside>
  );
}

/** Clear asks once more before emptying the cart. */
function ClearButton({ disabled, onClear }: { disabled: boolean; onClear: () => void }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  useEffect(() => {
    if (!asking) return;
    const timer = setTimeout(() => setAsking(false), 4000);
    return () => clearTimeout(timer);
  }, [asking]);
  return (
    <button
      type="button"
      className={asking ? 'button button-danger' : 'button'}
      disabled={disabled}
      data-testid="clear"
      onClick={() => {
        if (asking) {
          setAsking(false);
          onClear();
        } else {
          setAsking(true);
        }
      }}
    >
      {asking ? t('sell.clearConfirm') : t('sell.clear')}
    </button>
  );
}

function VoucherBox({ cart, send }: { cart: CartView; send: SendCart }) {
  const { t } = useI18n();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);

  const apply = async (next: string | null) => {
    setError(null);
    const answer = await send({ intent: 'voucher', code: next }, { quiet: true });
    if ('lines' in answer) setCode('');
    else setError(failureMessage(answer));
  };

  if (cart.voucher) {
    return (
      <div className="side-block" data-testid="voucher">
        <div className="side-block-head">
          <span className="side-label">{t('voucher.title')}</span>
          <button type="button" className="button button-link" onClick={() => void apply(null)} data-testid="voucher-remove">
            {t('voucher.remove')}
          </button>
        </div>
        <div className="voucher-applied">
          <span>
            <strong>{cart.voucher.code}</strong> <span className="muted">{cart.voucher.campaign}</span>
          </span>
          <Money amount={-cart.voucher.discount} />
        </div>
        <ErrorText message={error} testId="voucher-error" />
      </div>
    );
  }
  return (
    <form
      className="side-block"
      onSubmit={(e) => {
        e.preventDefault();
        if (code.trim()) void apply(code.trim());
      }}
    >
      <span className="side-label">{t('voucher.title')}</span>
      <div className="input-row">
        <input
          className="input"
          data-testid="voucher-code"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          placeholder={t('voucher.placeholder')}
          aria-label={t('voucher.placeholder')}
          autoComplete="off"
        />
        <button type="submit" className="button" data-testid="voucher-apply" disabled={!code.trim()}>
          {t('voucher.apply')}
        </button>
      </div>
      <ErrorText message={error} testId="voucher-error" />
    </form>
  );
}

function BillDiscount({ cart, send }: { cart: CartView; send: SendCart }) {
  const { t } = useI18n();
  const [text, setText] = useState(cart.bill_discount ? String(cart.bill_discount) : '');
  const [shown, setShown] = useState(cart.bill_discount);
  // Rust's answer wins: when it changes the discount, the field shows it.
  if (shown !== cart.bill_discount) {
    setShown(cart.bill_discount);
    setText(cart.bill_discount ? String(cart.bill_discount) : '');
  }

  const commit = () => {
    const amount = text.trim() === '' ? 0 : parseRupiah(text);
    if (amount === null) {
      setText(cart.bill_discount ? String(cart.bill_discount) : '');
    } else if (amount !== cart.bill_discount) {
      void send({ intent: 'bill_discount', amount });
    }
  };

  return (
    <form
      className="side-block"
      onSubmit={(e) => {
        e.preventDefault();
        commit();
      }}
    >
      <label className="side-label" htmlFor="bill-discount">
        {t('sell.billDiscount')}
      </label>
      <div className="input-row">
        <input
          id="bill-discount"
          className="input input-money"
          inputMode="numeric"
          data-testid="bill-discount"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onBlur={commit}
          placeholder="0"
          autoComplete="off"
        />
        <button type="submit" className="button" data-testid="bill-discount-apply">
          {t('common.apply')}
        </button>
      </div>
    </form>
  );
}

function Totals({ cart }: { cart: CartView }) {
  const { t } = useI18n();
  return (
    <dl className="totals" data-testid="totals">
      <TotalRow label={t('totals.subtotal')}>
        <Money amount={cart.subtotal} testId="cart-subtotal" />
      </TotalRow>
      {cart.line_discounts > 0 && (
        <TotalRow label={t('totals.lineDiscounts')}>
          <Money amount={-cart.line_discounts} testId="cart-line-discounts" />
        </TotalRow>
      )}
      {cart.bill_discount > 0 && (
        <TotalRow label={t('totals.billDiscount')}>
          <Money amount={-cart.bill_discount} testId="cart-bill-discount" />
        </TotalRow>
      )}
      {cart.voucher_discount > 0 && (
        <TotalRow label={t('totals.voucher')}>
          <Money amount={-cart.voucher_discount} testId="cart-voucher-discount" />
        </TotalRow>
      )}
      <TotalRow label={t('totals.tax')}>
        <Money amount={cart.tax} testId="cart-tax" />
      </TotalRow>
      <div className="total-row total-grand">
        <dt>{t('totals.total')}</dt>
        <dd>
          <Money amount={cart.total} testId="cart-total" />
        </dd>
      </div>
      <div className="total-row total-list">
        <dt>{t('totals.priceList')}</dt>
        <dd data-testid="cart-price-list">{cart.price_list}</dd>
      </div>
    </dl>
  );
}

function TotalRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="total-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
