import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { appState, cartWithNoodles, commandError, receipt } from '../test/fakeBackend';
import { renderApp } from '../test/render';
import { quickCash } from './Checkout';

describe('Checkout', () => {
  it('shows the change for cash above the total and sends the tenders', async () => {
    const { backend, user } = await renderApp({ cart: () => cartWithNoodles(), checkout: () => receipt() });
    await screen.findAllByTestId('cart-line');
    await user.keyboard('{F9}');
    const dialog = await screen.findByTestId('checkout');
    const amount = within(dialog).getByTestId('tender-amount');
    expect(amount).toHaveProperty('value', '7770');
    expect(document.activeElement).toBe(amount);

    await user.clear(amount);
    await user.type(amount, '10.000{Enter}');

    expect(within(dialog).getAllByTestId('tender')).toHaveLength(1);
    expect(within(dialog).getByTestId('change-due').textContent).toBe('Rp 2.230');
    expect(within(dialog).getByTestId('still-due').textContent).toBe('Rp 0');
    expect(amount).toHaveProperty('value', '');

    await user.click(within(dialog).getByTestId('checkout-confirm'));

    expect(backend.requests('checkout')).toEqual([{ tenders: [{ method: 'cash', amount: 10_000 }] }]);
    const paper = await screen.findByTestId('receipt');
    expect(within(paper).getByTestId('receipt-number').textContent).toBe('JKT-01/POS-1/261201/0007');
    expect(within(paper).getByTestId('receipt-change').textContent).toBe('Rp 2.230');
    expect(screen.queryByTestId('checkout')).toBeNull();
  });

  it('splits tenders and confirms with Enter once nothing is due', async () => {
    const { backend, user } = await renderApp(
      { cart: () => cartWithNoodles({ customer: { code: 'OUT-1', name: 'Toko Maju', price_list: null, credit_limit: 1_000_000, due: 0 } }), checkout: () => receipt() },
      appState(),
    );
    await user.click(await screen.findByTestId('pay'));
    const dialog = await screen.findByTestId('checkout');
    const amount = within(dialog).getByTestId('tender-amount');
    await user.click(within(dialog).getByTestId('method-qris'));
    await user.clear(amount);
    await user.type(amount, '5000{Enter}');
    expect(within(dialog).getByTestId('still-due').textContent).toBe('Rp 2.770');
    await user.click(within(dialog).getByTestId('method-credit'));
    await user.type(amount, '{Enter}');
    await user.type(amount, '{Enter}');
    await waitFor(() =>
      expect(backend.requests('checkout')).toEqual([
        {
          tenders: [
            { method: 'qris', amount: 5_000 },
            { method: 'credit', amount: 2_770 },
          ],
        },
      ]),
    );
  });

  it('selects what is still due after a tender, so typing replaces it', async () => {
    const { user } = await renderApp({ cart: () => cartWithNoodles() });
    await user.click(await screen.findByTestId('pay'));
    const dialog = await screen.findByTestId('checkout');
    await user.click(within(dialog).getByTestId('method-qris'));
    await user.keyboard('5000{Enter}');
    const amount = within(dialog).getByTestId('tender-amount');
    expect(amount).toHaveProperty('value', '2770');
    await user.keyboard('10000{Enter}');
    expect(within(dialog).getAllByTestId('tender').map((row) => row.textContent)).toEqual([
      expect.stringContaining('Rp 5.000'),
      expect.stringContaining('Rp 10.000'),
    ]);
    expect(within(dialog).getByTestId('change-due').textContent).toBe('Rp 7.230');
  });

  it('offers credit only with a customer', async () => {
    const { user } = await renderApp({ cart: () => cartWithNoodles() });
    await user.click(await screen.findByTestId('pay'));
    expect(screen.getByTestId('method-credit')).toHaveProperty('disabled', true);
    expect(screen.getByTestId('method-card')).toHaveProperty('disabled', false);
  });

  it("shows a CommandError's message and stays open", async () => {
    const { user } = await renderApp({
      cart: () => cartWithNoodles(),
      checkout: () => {
        throw commandError('payment', 'Pembayaran kartu melebihi total.');
      },
    });
    await user.click(await screen.findByTestId('pay'));
    const dialog = await screen.findByTestId('checkout');
    await user.click(within(dialog).getByTestId('method-card'));
    await user.type(within(dialog).getByTestId('tender-amount'), '{Enter}');
    await user.click(within(dialog).getByTestId('checkout-confirm'));
    expect((await within(dialog).findByTestId('error')).textContent).toBe('Pembayaran kartu melebihi total.');
    expect(screen.getByTestId('checkout')).toBeTruthy();
  });

  it('prints the receipt with window.print and starts a new sale', async () => {
    const print = vi.spyOn(window, 'print').mockImplementation(() => undefined);
    const { backend, user } = await renderApp({ cart: () => cartWithNoodles(), checkout: () => receipt() });
    await user.click(await screen.findByTestId('pay'));
    await user.click(screen.getByTestId('quick-exact'));
    await user.click(screen.getByTestId('checkout-confirm'));
    await user.click(await screen.findByTestId('print'));
    expect(print).toHaveBeenCalledTimes(1);
    expect(document.querySelector('.print-copy .receipt-paper')).not.toBeNull();
    await user.click(screen.getByTestId('new-sale'));
    await screen.findByTestId('scan-input');
    expect(backend.requests('cart').at(-1)).toEqual({ intent: 'show' });
    print.mockRestore();
  });
});

describe('quickCash', () => {
  it('offers exact, then the next Rp 50.000 and Rp 100.000', () => {
    expect(quickCash(7_770)).toEqual([7_770, 50_000, 100_000]);
    expect(quickCash(62_500)).toEqual([62_500, 100_000]);
    expect(quickCash(120_000)).toEqual([120_000, 150_000, 200_000]);
    expect(quickCash(50_000)).toEqual([50_000, 100_000]);
    expect(quickCash(100_000)).toEqual([100_000, 150_000, 200_000]);
    expect(quickCash(0)).toEqual([]);
  });
});
