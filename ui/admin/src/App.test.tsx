import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { error, fakeServer, session, today } from './test/fakeServer';

beforeEach(() => {
  localStorage.clear();
  window.history.replaceState(null, '', '/admin/');
});

afterEach(() => localStorage.clear());

describe('the admin web', () => {
  it('signs in, shows today, and sends the anti-forgery token when signing out', async () => {
    const server = fakeServer({
      'GET /v1/web/session': () => error(401, 'unauthenticated', 'no access token'),
      'POST /v1/web/session/refresh': () => error(401, 'session_expired', 'ended'),
      'POST /v1/web/session': (body) =>
        (body as { password: string }).password === 'password-1'
          ? { status: 201, body: session() }
          : error(401, 'invalid_credentials', 'wrong username or password'),
      'GET /v1/admin/today': () => ({ status: 200, body: today() }),
      'DELETE /v1/web/session': () => ({ status: 204 }),
    });
    const user = userEvent.setup();
    render(<App />);
    await user.type(await screen.findByTestId('username'), 'admin');
    await user.type(screen.getByTestId('password'), 'wrong');
    await user.click(screen.getByTestId('sign-in-submit'));
    expect((await screen.findByTestId('error')).textContent).toBe('wrong username or password');
    expect(screen.getByTestId('password')).toHaveProperty('value', '');

    await user.type(screen.getByTestId('password'), 'password-1');
    await user.click(screen.getByTestId('sign-in-submit'));
    expect((await screen.findByTestId('tile-sales-value')).textContent).toBe('Rp 1.340.000');
    expect(screen.getByTestId('tile-devices-value').textContent).toBe('31');
    expect(screen.getByTestId('sales-JKT-01').textContent).toContain('Jakarta Pusat');
    expect(screen.getByTestId('signed-in-as').textContent).toContain('Administrator');

    await user.click(screen.getByTestId('sign-out'));
    await screen.findByTestId('sign-in');
    const signOut = server.requests.find((r) => r.method === 'DELETE');
    expect(signOut?.csrf).toBe('lpc_test');
  });

  it('shows the sign-in again, saying why, when the session ends', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let ended = false;
    fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session({ role: 'supervisor' }) }),
      'POST /v1/web/session/refresh': () => error(401, 'session_expired', 'ended'),
      'GET /v1/admin/today': () =>
        ended
          ? error(401, 'session_revoked', 'revoked')
          : { status: 200, body: today({ outbox_backlog: null }) },
    });
    render(<App />);
    expect((await screen.findByTestId('tile-outbox-value')).textContent).toBe('—');
    ended = true;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => expect(screen.queryByTestId('sign-in')).not.toBeNull());
    expect(screen.getByText('Sesi Anda telah berakhir. Silakan masuk lagi.')).toBeTruthy();
    vi.useRealTimers();
  });

  it('speaks English when asked, and remembers it', async () => {
    fakeServer({
      'GET /v1/web/session': () => error(401, 'unauthenticated', 'no access token'),
      'POST /v1/web/session/refresh': () => error(401, 'session_expired', 'ended'),
    });
    const user = userEvent.setup();
    render(<App />);
    await user.click(await screen.findByTestId('locale-en'));
    expect(screen.getByTestId('sign-in-submit').textContent).toBe('Sign in');
    expect(localStorage.getItem('lapak.admin.locale')).toBe('en');
  });
});
