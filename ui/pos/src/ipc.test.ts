import { afterEach, describe, expect, it } from 'vitest';
import { call, IpcError, setTransport } from './ipc';
import { commandError, emptyCart, fakeBackend } from './test/fakeBackend';

afterEach(() => setTransport(null));

describe('call', () => {
  it('sends the intent as { request } to the named command', async () => {
    const backend = fakeBackend({ cart: () => emptyCart() });
    await call('cart', { intent: 'scan', code: '8991234567890' });
    expect(backend.calls).toEqual([{ name: 'cart', request: { intent: 'scan', code: '8991234567890' } }]);
  });

  it('passes a CommandError through with its code and message', async () => {
    fakeBackend({
      cart: () => {
        throw commandError('not_found', 'No item with barcode 123.');
      },
    });
    const failure: unknown = await call('cart', { intent: 'scan', code: '123' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(IpcError);
    expect(failure).toMatchObject({ code: 'not_found', message: 'No item with barcode 123.' });
  });

  it('turns anything else into an internal error with a message', async () => {
    setTransport({
      invoke: () => Promise.reject(new Error('Command checkout not found')),
      listen: () => Promise.resolve(() => undefined),
    });
    await expect(call('checkout', { tenders: [] })).rejects.toMatchObject({
      code: 'internal',
      message: 'Command checkout not found',
    });
    setTransport({
      invoke: () => Promise.reject({ code: 'teapot', message: 'I am a teapot' }),
      listen: () => Promise.resolve(() => undefined),
    });
    await expect(call('sync_now', {})).rejects.toMatchObject({ code: 'internal', message: 'I am a teapot' });
  });

  it('fails as internal outside Tauri (no native side)', async () => {
    setTransport(null);
    await expect(call('app_state', {})).rejects.toMatchObject({ code: 'internal' });
  });
});
