import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { HistoryRequest, InvoiceSummary } from '../generated/api';
import { cartWithNoodles, commandError, receipt } from '../test/fakeBackend';
import { renderApp } from '../test/render';

function summaries(count: number): InvoiceSummary[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `inv-${i}`,
    number: `JKT-01/POS-1/261201/${String(i + 1).padStart(4, '0')}`,
    terminal: 'POS-1',
    sold_at: Date.UTC(2026, 11, 1, 3, i),
    total: 7_770,
    customer: null,
    verdict: { state: i % 2 ? 'accepted' : 'pending' },
  }));
}

describe('History and returns', () => {
  it('opens a receipt, reprints it, and takes items back against it', async () => {
    const sold = receipt({
      lines: [
        { sku: 'SKU-000001', name: 'Indomie Goreng', qty: 2, price: 3_500, discount: 0, tax: 770, total: 7_770, returned: 0 },
        { sku: 'SKU-000009', name: 'Teh Botol', qty: 1, price: 5_000, discount: 0, tax: 550, total: 5_550, returned: 0 },
      ],
    });
    const { backend, user } = await renderApp({
      history: (request: HistoryRequest) => summaries(Math.min(request.limit ?? 50, 3)),
      receipt: () => sold,
      return_items: (request) => ({
        id: 'ret-1',
        invoice_number: sold.number,
        refund: 3_885,
        lines: [{ sku: request.lines[0]!.sku, name: 'Indomie Goreng', qty: 1, price: 3_500, discount: 0, tax: 385, total: 3_885, returned: 0 }],
      }),
    });
    await user.keyboard('{F3}');
    const rows = await screen.findAllByTestId('history-row');
    expect(rows).toHaveLength(3);
    await user.click(rows[0]!);
    expect((await screen.findByTestId('receipt-number')).textContent).toBe(sold.number);
    expect(screen.getByTestId('print').textContent).toBe('Reprint');
    expect(backend.requests('receipt')).toEqual([{ invoice: 'inv-0' }]);

    await user.click(screen.getByTestId('receipt-return'));
    const lines = await screen.findAllByTestId('return-line');
    expect(backend.requests('receipt').at(-1)).toEqual({ invoice: sold.number });
    expect(lines.map((line) => within(line).getByTestId('return-sold').textContent)).toEqual(['2', '1']);

    // More than was sold is refused on the page.
    await user.type(within(lines[0]!).getByTestId('return-qty'), '3');
    await user.click(screen.getByTestId('return-submit'));
    expect((await screen.findByTestId('error')).textContent).toContain('Indomie Goreng');
    expect(backend.requests('return_items')).toEqual([]);

    await user.clear(within(lines[0]!).getByTestId('return-qty'));
    await user.type(within(lines[0]!).getByTestId('return-qty'), '1');
    await user.type(screen.getByTestId('return-reason'), 'rusak');
    await user.click(screen.getByTestId('return-submit'));

    expect((await screen.findByTestId('return-refund')).textContent).toBe('Rp 3.885');
    expect(backend.requests('return_items')).toEqual([
      { invoice: sold.id, lines: [{ sku: 'SKU-000001', qty: 1 }], reason: 'rusak' },
    ]);
  });

  it('offers only what has not come back yet', async () => {
    const sold = receipt({
      lines: [
        { sku: 'SKU-000001', name: 'Indomie Goreng', qty: 2, price: 3_500, discount: 0, tax: 770, total: 7_770, returned: 2 },
        { sku: 'SKU-000009', name: 'Teh Botol', qty: 3, price: 5_000, discount: 0, tax: 1_650, total: 16_650, returned: 1 },
      ],
    });
    const { backend, user } = await renderApp({ receipt: () => sold });
    await user.keyboard('{F4}');
    await user.type(await screen.findByTestId('return-invoice'), `${sold.number}{Enter}`);
    const lines = await screen.findAllByTestId('return-line');
    expect(lines.map((line) => within(line).getByTestId('return-before').textContent)).toEqual(['2', '1']);
    expect(within(lines[0]!).getByTestId('return-qty')).toHaveProperty('disabled', true);
    await user.type(within(lines[1]!).getByTestId('return-qty'), '3');
    await user.click(screen.getByTestId('return-submit'));
    expect((await screen.findByTestId('error')).textContent).toMatch(/Teh Botol.*2/);
    expect(backend.requests('return_items')).toEqual([]);
  });

  it("shows Rust's message when the invoice is not found", async () => {
    const { user } = await renderApp({
      receipt: () => {
        throw commandError('not_found', 'No invoice JKT-01/X.');
      },
    });
    await user.keyboard('{F4}');
    await user.type(await screen.findByTestId('return-invoice'), 'JKT-01/X{Enter}');
    expect((await screen.findByTestId('error')).textContent).toBe('No invoice JKT-01/X.');
  });

  it('asks for at most 50 invoices at a time and reloads on changes', async () => {
    const { backend, user } = await renderApp({
      history: (request: HistoryRequest) => summaries(request.limit ?? 50),
    });
    await user.keyboard('{F3}');
    expect(await screen.findAllByTestId('history-row')).toHaveLength(50);
    expect(backend.requests('history')).toEqual([{ query: null, limit: 50 }]);
    backend.emit('lapak://changed', { collections: ['sales_invoices'] });
    await waitFor(() => expect(backend.requests('history')).toHaveLength(2));
  });
});

describe('Held bills', () => {
  it('lists held bills and resumes one into the cart', async () => {
    const { backend, user } = await renderApp({
      held_bills: () => [
        { id: 'held-1', terminal: 'POS-2', cashier: 'Budi', customer: null, note: 'meja 4', lines: 1, total: 7_770 },
      ],
      resume: () => cartWithNoodles({ held_bill: 'held-1' }),
      cart: () => cartWithNoodles({ held_bill: 'held-1' }),
    });
    await user.keyboard('{F2}');
    const row = await screen.findByTestId('held-bill');
    expect(row.textContent).toContain('meja 4');
    expect(row.textContent).toContain('Rp 7.770');
    await user.click(within(row).getByTestId('held-resume'));
    await screen.findByTestId('held-banner');
    expect(backend.requests('resume')).toEqual([{ id: 'held-1' }]);
  });
});
