/**
 * Small hooks the screens share: running a command with a busy flag and an error message,
 * listening to Rust's events, and debouncing what a cashier types.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { listen, toFailure, type CommandFailure, type Events } from './ipc';

/** Runs commands one at a time with `busy` and the last failure's message in `error`. */
export function useAction(onFailure?: (failure: CommandFailure) => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const failureRef = useRef(onFailure);
  useEffect(() => {
    failureRef.current = onFailure;
  }, [onFailure]);

  const run = useCallback(async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await work();
    } catch (thrown) {
      const failure = toFailure(thrown);
      setError(failure.message);
      failureRef.current?.(failure);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);

  return { busy, error, setError, run };
}

/** Calls `handler` with every `event` from Rust while the component is mounted. */
export function useEvent<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void) {
  const handlerRef = useRef(handler);
  useEffect(() => {
    handlerRef.current = handler;
  }, [handler]);
  useEffect(() => listen(event, (payload) => handlerRef.current(payload)), [event]);
}

/** `value`, once it has not changed for `ms` milliseconds. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
