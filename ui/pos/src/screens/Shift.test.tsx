import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ShiftIntent } from '../generated/api';
import { shiftView } from '../test/fakeBackend';
import { renderApp } from '../test/render';

describe('Shift', () => {
  it('closes with the counted cash and shows expected, counted and difference', async () => {
    const closed = shiftView({ counted_cash: 330_000, difference: -10_000, closed_at: Date.UTC(2026, 11, 1, 10, 0) });
    const { backend, user } = await renderApp({
      shift: (intent: ShiftIntent) =>
        intent.intent === 'close' ? { current: null, last_closed: closed } : { current: shiftView(), last_closed: null },
    });
    await user.keyboard('{F5}');
    const panel = await screen.findByTestId('shift');
    expect((await within(panel).findByTestId('shift-current-expected')).textContent).toBe('Rp 340.000');

    await user.type(within(panel).getByTestId('shift-close-cash'), '330000');
    await user.click(within(panel).getByTestId('shift-close'));

    const last = await screen.findByTestId('shift-last-closed');
    expect(within(last).getByTestId('shift-expected').textContent).toBe('Rp 340.000');
    expect(within(last).getByTestId('shift-counted').textContent).toBe('Rp 330.000');
    expect(within(last).getByTestId('shift-difference').textContent).toBe('-Rp 10.000');
    expect(backend.requests('shift')).toEqual([{ intent: 'show' }, { intent: 'close', counted_cash: 330_000 }]);

    // With the shift closed, selling asks for a new one.
    await user.keyboard('{F1}');
    await screen.findByTestId('shift-required');
  });

  it("shows the drawer as Rust has it now, never the figures from the shift's opening", async () => {
    const now = shiftView({ refunds: 97_741, expected_cash: 252_259 });
    let answer: () => void = () => {};
    const { user } = await renderApp({
      shift: () => new Promise((resolve) => (answer = () => resolve({ current: now, last_closed: null }))),
    });
    await user.keyboard('{F5}');
    // Rust has not answered yet: no figure to count against.
    expect(screen.queryByTestId('shift-current-expected')).toBeNull();
    expect(screen.queryByTestId('shift-close')).toBeNull();
    answer();
    expect((await screen.findByTestId('shift-current-expected')).textContent).toBe('Rp 252.259');
  });

  it('refuses an amount that is not rupiah without calling Rust', async () => {
    const { backend, user } = await renderApp({ shift: () => ({ current: shiftView(), last_closed: null }) });
    await user.click(screen.getByTestId('nav-shift'));
    await user.type(await screen.findByTestId('shift-close-cash'), 'lots');
    await user.click(screen.getByTestId('shift-close'));
    expect(await screen.findByTestId('error')).toBeTruthy();
    expect(backend.requests('shift')).toEqual([{ intent: 'show' }]);
  });
});
