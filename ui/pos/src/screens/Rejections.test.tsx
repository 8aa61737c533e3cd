import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { badge } from '../test/fakeBackend';
import { renderApp } from '../test/render';

describe('Rejections', () => {
  it('opens from the badge and shows each refusal with what to do', async () => {
    const { user } = await renderApp({
      sync_status: () => badge({ rejected: 2 }),
      rejections: () => [
        {
          collection: 'sales_invoices',
          record: 'JKT-01/POS-1/261201/0007',
          code: 'voucher_used',
          message: 'Voucher HEMAT10 was already redeemed at JKT-02.',
          what_to_do: 'Ask the customer to pay the voucher amount, or tell the supervisor.',
          rejected_at: Date.UTC(2026, 11, 1, 4, 0),
        },
        {
          collection: 'held_bills',
          record: 'held-9',
          code: 'forbidden',
          message: 'Branch JKT-02 is not yours.',
          what_to_do: 'Sign in at the right branch.',
          rejected_at: Date.UTC(2026, 11, 1, 5, 0),
        },
      ],
    });
    const button = await screen.findByTestId('sync-rejected');
    expect(button.textContent).toBe('2 rejected');
    await user.click(button);
    const rows = await screen.findAllByTestId('rejection');
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByTestId('rejection-message').textContent).toBe(
      'Voucher HEMAT10 was already redeemed at JKT-02.',
    );
    expect(rows[0]!.textContent).toContain('Ask the customer to pay the voucher amount');
    expect(rows[0]!.textContent).toContain('sales_invoices');
    expect(rows[1]!.textContent).toContain('held-9');
  });
});
