import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { CartIntent } from '../generated/api';
import { appState, cartWithNoodles, commandError, emptyCart, shiftView } from '../test/fakeBackend';
import { renderApp } from '../test/render';

describe('Sell', () => {
  it('sends a scanned code with Enter and shows the cart Rust answers', async () => {
    const { backend, user } = await renderApp({
      cart: (intent: CartIntent) => (intent.intent === 'scan' ? cartWithNoodles() : emptyCart()),
    });
    const input = await screen.findByTestId('scan-input');
    expect(document.activeElement).toBe(input);

    await user.type(input, '8991234567890{Enter}');

    const rows = await screen.findAllByTestId('cart-line');
    expect(rows).toHaveLength(1);
    expect(within(rows[0]!).getByTestId('line-name').textContent).toBe('Indomie Goreng');
    expect(within(rows[0]!).getByTestId('line-amount').textContent).toBe('Rp 7.000');
    expect(screen.getByTestId('cart-total').textContent).toBe('Rp 7.770');
    expect(backend.requests('cart')).toContainEqual({ intent: 'scan', code: '8991234567890' });
    expect(input).toHaveProperty('value', '');
    expect(document.activeElement).toBe(input);
  });

  it("shows Rust's message when a scan fails and keeps the code to retry", async () => {
    const { user } = await renderApp({
      cart: (intent: CartIntent) => {
        if (intent.intent === 'scan') throw commandError('not_found', 'Barang dengan barcode 123 tidak ada.');
        return emptyCart();
      },
    });
    await user.type(await screen.findByTestId('scan-input'), '123{Enter}');
    expect((await screen.findByTestId('error')).textContent).toBe('Barang dengan barcode 123 tidak ada.');
    expect(screen.getByTestId('scan-input')).toHaveProperty('value', '123');
  });

  it('empties the cart when another terminal paid the held bill (held_bill_gone)', async () => {
    let paidElsewhere = false;
    const { backend, user } = await renderApp({
      cart: (intent: CartIntent) => {
        if (intent.intent === 'set_qty') {
          paidElsewhere = true;
          throw commandError('held_bill_gone', 'Tagihan ini sudah dibayar di terminal lain.');
        }
        return paidElsewhere ? emptyCart() : cartWithNoodles({ held_bill: 'h1' });
      },
    });
    await screen.findAllByTestId('cart-line');
    await user.click(screen.getByTestId('line-plus'));
    expect((await screen.findByTestId('error')).textContent).toBe('Tagihan ini sudah dibayar di terminal lain.');
    await screen.findByTestId('cart-empty');
    expect(backend.requests('cart').slice(1)).toEqual([
      { intent: 'set_qty', line: 0, sku: 'SKU-000001', qty: 3 },
      { intent: 'show' },
    ]);
  });

  it('shows the cart as it is now when another terminal moved its lines (stale_cart)', async () => {
    const moved = cartWithNoodles({ held_bill: 'h1' });
    moved.lines[0] = { ...moved.lines[0]!, sku: 'SKU-000009', name: 'Teh Botol' };
    let otherTerminalEdited = false;
    const { backend, user } = await renderApp({
      cart: (intent: CartIntent) => {
        if (intent.intent === 'set_qty') {
          otherTerminalEdited = true;
          throw commandError('stale_cart', 'Tagihan ini baru diubah terminal lain.');
        }
        return otherTerminalEdited ? moved : cartWithNoodles({ held_bill: 'h1' });
      },
    });
    await screen.findAllByTestId('cart-line');
    await user.click(screen.getByTestId('line-plus'));
    expect((await screen.findByTestId('error')).textContent).toBe('Tagihan ini baru diubah terminal lain.');
    await waitFor(() => expect(screen.getByTestId('line-name').textContent).toBe('Teh Botol'));
    expect(backend.requests('cart').slice(1)).toEqual([
      { intent: 'set_qty', line: 0, sku: 'SKU-000001', qty: 3 },
      { intent: 'show' },
    ]);
  });

  it('searches words, picks a hit with the arrow keys and adds it by SKU', async () => {
    const { backend, user } = await renderApp({
      search_items: () => [
        { sku: 'SKU-000001', name: 'Indomie Goreng', barcode: '899', unit: 'pcs', price: 3_500, stock: 118 },
        { sku: 'SKU-000002', name: 'Indomie Soto', barcode: null, unit: 'pcs', price: 3_400, stock: null },
      ],
      cart: (intent: CartIntent) => (intent.intent === 'add' ? cartWithNoodles() : emptyCart()),
    });
    const input = await screen.findByTestId('scan-input');
    await user.type(input, 'indomie');
    const hits = await screen.findAllByTestId('search-hit');
    expect(hits).toHaveLength(2);
    expect(hits[0]!.textContent).toContain('Rp 3.500');
    expect(backend.requests('search_items').at(-1)).toEqual({ query: 'indomie', limit: 30 });

    await user.keyboard('{ArrowDown}{Enter}');

    await screen.findAllByTestId('cart-line');
    expect(backend.requests('cart')).toContainEqual({ intent: 'add', sku: 'SKU-000002', qty: null });
    expect(screen.queryByTestId('search-results')).toBeNull();
    expect(document.activeElement).toBe(input);
  });

  it('edits quantity and discount of a line as intents', async () => {
    const { backend, user } = await renderApp({ cart: () => cartWithNoodles() });
    await screen.findAllByTestId('cart-line');
    await user.click(screen.getByTestId('line-plus'));
    const qty = screen.getByTestId('line-qty');
    await user.clear(qty);
    await user.type(qty, '5{Enter}');
    const discount = screen.getByTestId('line-discount');
    await user.type(discount, '1.000{Enter}');
    await waitFor(() =>
      expect(backend.requests('cart').slice(1)).toEqual([
        { intent: 'set_qty', line: 0, sku: 'SKU-000001', qty: 3 },
        { intent: 'set_qty', line: 0, sku: 'SKU-000001', qty: 5 },
        { intent: 'line_discount', line: 0, sku: 'SKU-000001', amount: 1000 },
      ]),
    );
  });

  it('says when the cart is a held bill and re-reads it when another terminal edits it', async () => {
    const { backend } = await renderApp({ cart: () => cartWithNoodles({ held_bill: 'held-1' }) });
    await screen.findByTestId('held-banner');
    const before = backend.requests('cart').length;
    backend.emit('lapak://changed', { collections: ['held_bills'] });
    await waitFor(() => expect(backend.requests('cart').length).toBe(before + 1));
    expect(backend.requests('cart').at(-1)).toEqual({ intent: 'show' });
  });

  it('asks for an open shift before selling', async () => {
    const { backend, user } = await renderApp(
      {
        shift: () => ({ current: shiftView({ opening_cash: 150_000, expected_cash: 150_000 }), last_closed: null }),
      },
      appState({ shift: null }),
    );
    await screen.findByTestId('shift-required');
    await user.type(screen.getByTestId('shift-open-cash'), '150.000');
    await user.click(screen.getByTestId('shift-open'));
    await screen.findByTestId('scan-input');
    expect(backend.requests('shift')).toEqual([{ intent: 'open', opening_cash: 150_000 }]);
  });
});
