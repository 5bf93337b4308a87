import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from './api/client';

export interface Polled<T> {
  data?: T;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` now and again every `intervalMs` while the tab is visible (a hidden tab costs
 * the registry nothing), and at once when it becomes visible again. Polls start after the previous
 * answer, so a slow registry is never asked twice at once.
 */
export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], intervalMs = 5_000): Polled<T> {
  const [state, setState] = useState<{ data?: T; error: string | null; loading: boolean }>({ error: null, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    setState({ error: null, loading: true });
  }, deps);

  useEffect(() => {
    let stopped = false;
    let inFlight = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (document.visibilityState === 'hidden') return schedule();
      if (inFlight) return;
      inFlight = true;
      try {
        const data = await loadRef.current();
        if (!stopped) setState({ data, error: null, loading: false });
      } catch (error) {
        if (!stopped) setState((previous) => ({ data: previous.data, error: errorText(error), loading: false }));
      }
      inFlight = false;
      schedule();
    };
    const schedule = () => {
      if (!stopped && intervalMs > 0) timer = setTimeout(run, intervalMs);
    };
    const onVisible = () => {
      if (document.visibilityState !== 'visible') return;
      clearTimeout(timer);
      void run();
    };
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [...deps, tick, intervalMs]);

  return { ...state, reload };
}
