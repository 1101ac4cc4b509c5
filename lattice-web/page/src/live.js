// Live events over server-sent events. The browser's EventSource reconnects by itself and
// sends Last-Event-ID (the watch cursor), so a dropped stream resumes with nothing missed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiUrl, segment } from './api.js';

// Follows api/v1/stores/STORE/events (null store: nothing) and calls handlers[type](data,
// event) for each event of a listed type. Returns 'connecting' | 'live' | 'reconnecting'.
export function useStoreEvents(store, query, handlers) {
  const [state, setState] = useState('connecting');
  const latest = useRef(handlers);
  latest.current = handlers;
  const key = store ? apiUrl(`stores/${segment(store)}/events`, query) : null;

  useEffect(() => {
    if (!key) return undefined;
    setState('connecting');
    const source = new EventSource(key, { withCredentials: true });
    source.onopen = () => setState('live');
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    const types = Object.keys(latest.current);
    const listeners = types.map((type) => {
      const listener = (event) => {
        let data = null;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        const handler = latest.current[type];
        if (handler) handler(data, event);
      };
      source.addEventListener(type, listener);
      return [type, listener];
    });
    return () => {
      for (const [type, listener] of listeners) source.removeEventListener(type, listener);
      source.close();
    };
  }, [key]);
  return state;
}

// Calls `load` now, whenever one of `deps` changes, and returns {data, error, reload}.
// A load started before a newer one is ignored when it finishes, so slow answers never
// overwrite fresh ones.
export function useLoad(load, deps) {
  const [result, setResult] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const reload = () => {
    const mine = ++generation.current;
    load().then(
      (data) => mine === generation.current && setResult({ data, error: null, loading: false }),
      (error) => mine === generation.current && setResult((old) => ({ data: old.data, error, loading: false })),
    );
  };
  useEffect(reload, deps);
  return { ...result, reload };
}
