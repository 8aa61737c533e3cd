/** Renders the whole page over a fake backend, signed in and ready unless told otherwise. */
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from '../App';
import type { AppState } from '../generated/api';
import { appState, badge, emptyCart, fakeBackend, type Handlers } from './fakeBackend';

export async function renderApp(handlers: Handlers = {}, app: AppState = appState()) {
  const backend = fakeBackend({
    app_state: () => app,
    sync_status: () => badge(),
    cart: () => emptyCart(),
    ...handlers,
  });
  const user = userEvent.setup();
  render(<App />);
  if (app.phase === 'ready') await screen.findByTestId('sync-badge');
  return { backend, user };
}
