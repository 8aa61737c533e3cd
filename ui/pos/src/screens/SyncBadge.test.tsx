import { act, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { badge } from '../test/fakeBackend';
import { renderApp } from '../test/render';

describe('SyncBadge', () => {
  it('shows offline with pending writes, and follows lapak://status', async () => {
    const { backend } = await renderApp({
      sync_status: () => badge({ connection: 'offline', pending: 3, last_sync: null, error: 'connection refused' }),
    });
    const shown = await screen.findByTestId('sync-badge');
    await screen.findByText('Offline');
    expect(shown.dataset.connection).toBe('offline');
    expect(screen.getByTestId('sync-pending').textContent).toBe('3');
    expect(screen.getByTestId('sync-last').textContent).toBe('Synced never');
    expect(shown.title).toBe('connection refused');

    act(() => backend.emit('lapak://status', badge({ connection: 'live', pending: 0 })));

    expect(screen.getByTestId('sync-connection').textContent).toBe('Live');
    expect(screen.getByTestId('sync-pending').textContent).toBe('0');
    expect(screen.getByTestId('sync-badge').dataset.connection).toBe('live');
  });

  it('asks Rust to sync now', async () => {
    const { backend, user } = await renderApp({
      sync_status: () => badge({ connection: 'online', pending: 1 }),
      sync_now: () => badge({ connection: 'live', pending: 0 }),
    });
    await screen.findByText('Online');
    await user.click(screen.getByTestId('sync-now'));
    await screen.findByText('Live');
    expect(backend.requests('sync_now')).toEqual([{}]);
  });
});
