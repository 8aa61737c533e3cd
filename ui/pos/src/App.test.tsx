import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { SignInRequest } from './generated/api';
import { appState, commandError } from './test/fakeBackend';
import { renderApp } from './test/render';

const signedOut = appState({ phase: 'sign_in', user: null, terminal: null, branches: [], shift: null, locale: 'id' });

describe('App', () => {
  it('shows why signing in failed', async () => {
    const { backend, user } = await renderApp(
      {
        sign_in: (request: SignInRequest) => {
          if (request.password === 'salah') throw commandError('bad_credentials', 'Nama pengguna atau kata sandi salah.');
          return appState({ phase: 'pick_terminal', terminal: null });
        },
      },
      signedOut,
    );
    await user.type(await screen.findByTestId('username'), 'c-jkt01-1');
    await user.type(screen.getByTestId('password'), 'salah');
    await user.click(screen.getByTestId('sign-in-submit'));
    expect((await screen.findByTestId('error')).textContent).toBe('Nama pengguna atau kata sandi salah.');
    expect(backend.requests('sign_in')).toEqual([
      { server: 'http://127.0.0.1:8080', username: 'c-jkt01-1', password: 'salah' },
    ]);
    expect(screen.getByTestId('password')).toHaveProperty('value', '');
  });

  it('signs in, picks the terminal and opens the sell screen', async () => {
    const { backend, user } = await renderApp(
      {
        sign_in: () => appState({ phase: 'pick_terminal', terminal: null }),
        pick_terminal: () => appState(),
      },
      signedOut,
    );
    await user.type(await screen.findByTestId('username'), 'c-jkt01-1');
    await user.type(screen.getByTestId('password'), 'rahasia');
    await user.click(screen.getByTestId('sign-in-submit'));
    expect((await screen.findByTestId('terminal')).getAttribute('value')).toBe('POS-1');
    await user.click(screen.getByTestId('pick-terminal-submit'));
    await screen.findByTestId('scan-input');
    expect(backend.requests('pick_terminal')).toEqual([{ branch: 'JKT-01', terminal: 'POS-1' }]);
    expect(screen.getByTestId('cashier').textContent).toContain('Sari');
  });

  it('speaks Indonesian by default and switches language through Rust', async () => {
    const { backend, user } = await renderApp({ set_locale: () => appState({ locale: 'en' }) }, appState({ locale: 'id' }));
    expect(screen.getByTestId('nav-sell').textContent).toContain('Jual');
    await user.click(screen.getByTestId('locale-en'));
    await waitFor(() => expect(screen.getByTestId('nav-sell').textContent).toContain('Sell'));
    expect(backend.requests('set_locale')).toEqual([{ locale: 'en' }]);
  });

  it('moves between screens with F1 … F6', async () => {
    const { user } = await renderApp({ held_bills: () => [], history: () => [], rejections: () => [] });
    await user.keyboard('{F2}');
    await screen.findByTestId('held-bills');
    await user.keyboard('{F3}');
    await screen.findByTestId('history');
    await user.keyboard('{F6}');
    await screen.findByTestId('rejections');
    await user.keyboard('{F1}');
    await screen.findByTestId('sell');
  });

  it('shows the message when sign-out is refused', async () => {
    const { user } = await renderApp({
      sign_out: () => {
        throw commandError('invalid', '3 sales still wait to be uploaded: sync first.');
      },
    });
    await user.click(screen.getByTestId('sign-out'));
    expect((await screen.findByTestId('header-error')).textContent).toBe('3 sales still wait to be uploaded: sync first.');
  });
});
