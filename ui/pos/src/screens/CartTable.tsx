/**
 * The cart's lines: quantity (− / typed / +), the line's discount, remove. Every figure on a
 * line (price, amount) is the one Rust answered; edits are sent as intents.
 */
import type { FocusEvent, KeyboardEvent } from 'react';
import { Money, parseQty, parseRupiah, useI18n } from '@lapak/kit';
import type { CartIntent, CartLineView, CartView } from '../generated/api';

type Send = (intent: CartIntent) => unknown;

export function CartTable({ cart, send }: { cart: CartView; send: Send }) {
  const { t } = useI18n();
  if (cart.lines.length === 0) {
    return (
      <div className="cart-empty" data-testid="cart-lines">
        <p data-testid="cart-empty">{t('sell.empty')}</p>
      </div>
    );
  }
  return (
    <div className="cart-scroll">
      <table className="cart-table" data-testid="cart-lines">
        <thead>
          <tr>
            <th className="col-no">#</th>
            <th>{t('sell.item')}</th>
            <th className="col-qty">{t('sell.qty')}</th>
            <th className="num">{t('sell.price')}</th>
            <th className="col-discount num">{t('sell.lineDiscount')}</th>
            <th className="num">{t('sell.amount')}</th>
            <th aria-label={t('sell.remove')} />
          </tr>
        </thead>
        <tbody>
          {cart.lines.map((line, index) => (
            <CartLine key={`${index}-${line.sku}`} line={line} index={index} send={send} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CartLine({ line, index, send }: { line: CartLineView; index: number; send: Send }) {
  const { t } = useI18n();

  const commitQty = (input: HTMLInputElement) => {
    const qty = parseQty(input.value);
    if (qty === null) {
      input.value = String(line.qty);
    } else if (qty === 0) {
      send({ intent: 'remove_line', line: index, sku: line.sku });
    } else if (qty !== line.qty) {
      send({ intent: 'set_qty', line: index, sku: line.sku, qty });
    }
  };

  const commitDiscount = (input: HTMLInputElement) => {
    const amount = input.value.trim() === '' ? 0 : parseRupiah(input.value);
    if (amount === null) {
      input.value = line.discount ? String(line.discount) : '';
    } else if (amount !== line.discount) {
      send({ intent: 'line_discount', line: index, sku: line.sku, amount });
    }
  };

  return (
    <tr className={line.unpriced ? 'cart-line cart-line-unpriced' : 'cart-line'} data-testid="cart-line">
      <td className="col-no">{index + 1}</td>
      <td>
        <div className="line-name" data-testid="line-name">{line.name}</div>
        <div className="line-meta">
          {line.sku}
          {line.stock !== null && <span> · {t('sell.stock', { count: line.stock })}</span>}
          {line.unpriced && <span className="tag tag-warn">{t('sell.noPrice')}</span>}
        </div>
      </td>
      <td className="col-qty">
        <div className="qty">
          <button
            type="button"
            className="button button-square"
            aria-label={t('sell.less')}
            data-testid="line-minus"
            disabled={line.qty <= 1}
            onClick={() => send({ intent: 'set_qty', line: index, sku: line.sku, qty: line.qty - 1 })}
          >
            −
          </button>
          <input
            key={line.qty}
            className="input input-qty"
            inputMode="numeric"
            aria-label={t('sell.qty')}
            data-testid="line-qty"
            defaultValue={line.qty}
            onKeyDown={onEnter(commitQty)}
            onBlur={onBlur(commitQty)}
          />
          <button
            type="button"
            className="button button-square"
            aria-label={t('sell.more')}
            data-testid="line-plus"
            onClick={() => send({ intent: 'set_qty', line: index, sku: line.sku, qty: line.qty + 1 })}
          >
            +
          </button>
        </div>
      </td>
      <td className="num"><Money amount={line.price} /></td>
      <td className="col-discount num">
        <input
          key={line.discount}
          className="input input-money input-small"
          inputMode="numeric"
          aria-label={t('sell.lineDiscount')}
          data-testid="line-discount"
          defaultValue={line.discount ? line.discount : ''}
          placeholder="0"
          onKeyDown={onEnter(commitDiscount)}
          onBlur={onBlur(commitDiscount)}
        />
      </td>
      <td className="num line-amount"><Money amount={line.amount} testId="line-amount" /></td>
      <td>
        <button
          type="button"
          className="button button-square button-ghost-danger"
          aria-label={t('sell.remove')}
          title={t('sell.remove')}
          data-testid="line-remove"
          onClick={() => send({ intent: 'remove_line', line: index, sku: line.sku })}
        >
          ✕
        </button>
      </td>
    </tr>
  );
}

/** Enter commits the field; leaving it commits too, unless Enter already sent that value. */
function onEnter(commit: (input: HTMLInputElement) => void) {
  return (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const input = event.currentTarget;
    input.dataset.sent = input.value;
    commit(input);
  };
}

function onBlur(commit: (input: HTMLInputElement) => void) {
  return (event: FocusEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    if (input.dataset.sent === input.value) return;
    commit(input);
  };
}
