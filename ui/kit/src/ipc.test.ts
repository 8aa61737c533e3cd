import { describe, expect, it, vi } from 'vitest';
import { createIpc, IpcError, normalizeError, type Transport } from './ipc';

type Code = 'invalid' | 'internal';
const codes = {
  isCode: (code: string): code is Code => code === 'invalid' || code === 'internal',
  fallback: 'internal' as const,
};

type Commands = { echo: [{ text: string }, string] };
type Events = { ping: number };

function transport(over: Partial<Transport> = {}): Transport {
  return {
    invoke: () => Promise.resolve('ok'),
    listen: () => Promise.resolve(() => undefined),
    ...over,
  };
}

describe('normalizeError', () => {
  it('keeps a known code and its message', () => {
    const error = normalizeError({ code: 'invalid', message: 'qty must be positive' }, codes);
    expect(error).toBeInstanceOf(IpcError);
    expect(error.code).toBe('invalid');
    expect(error.message).toBe('qty must be positive');
  });

  it('turns unknown codes, strings, errors and anything else into the fallback', () => {
    expect(normalizeError({ code: 'weird', message: 'm' }, codes)).toMatchObject({ code: 'internal', message: 'm' });
    expect(normalizeError('command cart not found', codes)).toMatchObject({
      code: 'internal',
      message: 'command cart not found',
    });
    expect(normalizeError(new TypeError('boom'), codes)).toMatchObject({ code: 'internal', message: 'boom' });
    expect(normalizeError(undefined, codes)).toMatchObject({ code: 'internal', message: 'Unknown error' });
    expect(normalizeError({ status: 500 }, codes)).toMatchObject({ code: 'internal', message: '{"status":500}' });
  });
});

describe('createIpc', () => {
  it('sends the request as { request } and rethrows failures normalized', async () => {
    const invoke = vi.fn<Transport['invoke']>(() => Promise.reject({ code: 'invalid', message: 'bad' }));
    const ipc = createIpc<Commands, Events, Code>({ defaultTransport: () => transport({ invoke }), codes });
    await expect(ipc.call('echo', { text: 'hi' })).rejects.toMatchObject({ code: 'invalid', message: 'bad' });
    expect(invoke).toHaveBeenCalledWith('echo', { request: { text: 'hi' } });
  });

  it('unsubscribes even when asked before the subscription finished', async () => {
    const unlisten = vi.fn();
    let finish: (stop: () => void) => void = () => undefined;
    const listen = () => new Promise<() => void>((resolve) => (finish = resolve));
    const ipc = createIpc<Commands, Events, Code>({ defaultTransport: () => transport({ listen }), codes });
    const stop = ipc.listen('ping', () => undefined);
    stop();
    finish(unlisten);
    await Promise.resolve();
    await Promise.resolve();
    expect(unlisten).toHaveBeenCalledTimes(1);
  });

  it('uses a swapped transport and goes back to the default', async () => {
    const ipc = createIpc<Commands, Events, Code>({ defaultTransport: () => transport(), codes });
    ipc.setTransport(transport({ invoke: () => Promise.resolve('fake') }));
    expect(await ipc.call('echo', { text: '' })).toBe('fake');
    ipc.setTransport(null);
    expect(await ipc.call('echo', { text: '' })).toBe('ok');
  });
});
