/**
 * Selling: the scan box, the cart and its side panel, checkout and the receipt. Every cart
 * change is an intent sent to Rust (`cart`), one at a time in the order the cashier made them,
 * and the page shows the cart Rust answers.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent, type RefObject } from 'react';
import { Dialog, ErrorText, Field, useI18n } from '@lapak/kit';
import type { CartIntent, CartView, Receipt } from '../generated/api';
import { useAction, useEvent } from '../hooks';
import { call, toFailure, type CommandFailure } from '../ipc';
import { isTypingKey, takesText } from '../scan';
import { useSession } from '../session';
import { CartSide, type SendCart } from './CartSide';
import { CartTable } from './CartTable';
import { Checkout } from './Checkout';
import { ReceiptView } from './ReceiptView';
import { ScanBox } from './ScanBox';

type Open = 'checkout' | 'hold' | null;

export function Sell() {
  const { t } = useI18n();
  const { setShift } = useSession();
  const [cart, setCart] = useState<CartView | null>(null);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [open, setOpen] = useState<Open>(null);
  const [error, setError] = useState<string | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const scanRef = useRef<HTMLInputElement>(null);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const cartRef = useRef<CartView | null>(null);

  const onFailure = useCallback(
    (failure: CommandFailure) => {
      if (failure.code === 'no_shift') setShift(null);
    },
    [setShift],
  );

  const send = useCallback<SendCart>(
    (intent: CartIntent, options) => {
      const next = queue.current.then(
        () => call('cart', intent),
      ).then(
        (view) => {
          cartRef.current = view;
          setCart(view);
          if (!options?.quiet) setError(null);
          return view;
        },
        (thrown: unknown) => {
          const failure = toFailure(thrown);
          if (!options?.quiet) setError(failure.message);
          onFailure(failure);
          if (failure.code !== 'stale_cart' && failure.code !== 'held_bill_gone') return failure;
          // Another terminal moved the held bill's lines, or paid it: show the cart as it is now.
          return call('cart', { intent: 'show' }).then(
            (view) => {
              cartRef.current = view;
              setCart(view);
              return failure;
            },
            () => failure,
          );
        },
      );
      queue.current = next;
      return next;
    },
    [onFailure],
  );

  useEffect(() => {
    void send({ intent: 'show' });
  }, [send]);

  // Another terminal edited the held bill this cart is: show the merged cart.
  useEvent('lapak://changed', ({ collections }) => {
    if (collections.includes('held_bills') && cartRef.current?.held_bill) void send({ intent: 'show' });
  });

  const canPay = open === null && receipt === null && (cart?.lines.length ?? 0) > 0;
  useSellKeys({ canPay, onPay: () => setOpen('checkout'), scanRef, active: open === null && receipt === null });

  const scan = async (code: string) => {
    setFlash(null);
    return 'lines' in (await send({ intent: 'scan', code }));
  };
  const add = async (sku: string) => {
    setFlash(null);
    return 'lines' in (await send({ intent: 'add', sku, qty: null }));
  };

  const close = () => {
    setOpen(null);
    scanRef.current?.focus();
  };

  const newSale = () => {
    setReceipt(null);
    setFlash(null);
    void send({ intent: 'show' });
  };

  if (receipt) {
    return (
      <section className="screen sell-receipt" data-testid="sell-receipt">
        <ReceiptView receipt={receipt}>
          <button type="button" className="button button-pay" data-testid="new-sale" onClick={newSale} autoFocus>
            {t('sell.newSale')}
          </button>
        </ReceiptView>
      </section>
    );
  }

  return (
    <section className="screen sell" data-testid="sell">
      <div className="sell-main">
        <ScanBox inputRef={scanRef} onScan={scan} onAdd={add} />
        {cart?.held_bill && (
          <div className="banner banner-info" data-testid="held-banner">
            {t('sell.heldBanner')}
          </div>
        )}
        <ErrorText message={error} />
        {flash && (
          <div className="banner banner-ok" role="status" data-testid="flash">
            {flash}
          </div>
        )}
        {cart ? <CartTable cart={cart} send={send} /> : <p className="muted">{t('common.loading')}</p>}
      </div>
      {cart && <CartSide cart={cart} send={send} onPay={() => setOpen('checkout')} onHold={() => setOpen('hold')} />}
      {open === 'checkout' && cart && (
        <Checkout
          cart={cart}
          onClose={close}
          onPaid={(paid) => {
            setOpen(null);
            setReceipt(paid);
          }}
        />
      )}
      {open === 'hold' && (
        <HoldDialog
          onClose={close}
          onHeld={() => {
            close();
            setFlash(t('hold.done'));
            void send({ intent: 'show' });
          }}
        />
      )}
    </section>
  );
}

/** F9 pays; typing anywhere that takes no text goes to the scan box (the scanner never misses). */
function useSellKeys({
  canPay,
  onPay,
  scanRef,
  active,
}: {
  canPay: boolean;
  onPay: () => void;
  scanRef: RefObject<HTMLInputElement | null>;
  active: boolean;
}) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'F9') {
        event.preventDefault();
        if (canPay) onPay();
      } else if (active && isTypingKey(event) && !takesText(event.target)) {
        scanRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [canPay, onPay, scanRef, active]);
}

/** Hold the cart with a note for whoever resumes it. */
function HoldDialog({ onClose, onHeld }: { onClose: () => void; onHeld: () => void }) {
  const { t } = useI18n();
  const [note, setNote] = useState('');
  const { busy, error, run } = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const held = await run(() => call('hold', { note: note.trim() || null }));
    if (held) onHeld();
  };
  return (
    <Dialog title={t('hold.title')} onClose={onClose} testId="hold-dialog" closeLabel={t('common.close')}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <Field label={t('hold.note')}>
          <input
            className="input"
            data-testid="hold-note"
            value={note}
            onChange={(e) => setNote(e.target.value)}
            placeholder={t('hold.notePlaceholder')}
            autoFocus
          />
        </Field>
        <ErrorText message={error} />
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={busy} data-testid="hold-confirm">
            {t('hold.confirm')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
