/**
 * Data that refreshes by itself: loaded at once, then every `everyMs` while the page is
 * visible, keeping the last good answer on screen when a refresh fails.
 */
import { useCallback, useEffect, useState } from 'react';

export interface Polled<T> {
  data: T | null;
  error: unknown;
  updatedAt: number | null;
  reload: () => void;
}

export function usePolling<T>(load: () => Promise<T>, everyMs: number): Polled<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; updatedAt: number | null }>({
    data: null,
    error: null,
    updatedAt: null,
  });
  const reload = useCallback(() => {
    load().then(
      (data) => setState({ data, error: null, updatedAt: Date.now() }),
      (error: unknown) => setState((s) => ({ ...s, error: error ?? 'error' })),
    );
  }, [load]);
  useEffect(() => {
    reload();
    const timer = window.setInterval(() => {
      if (document.visibilityState !== 'hidden') reload();
    }, everyMs);
    return () => window.clearInterval(timer);
  }, [reload, everyMs]);
  return { ...state, reload };
}
