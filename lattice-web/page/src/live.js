// Live events over server-sent events. The browser's EventSource reconnects by itself and
// sends Last-Event-ID (the watch cursor), so a dropped stream resumes with nothing missed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiUrl, segment } from './api.js';

// Follows api/v1/stores/STORE/events (null store: nothing) and calls handlers[type](data,
// event) for each event of a listed type. Returns 'connecting' | 'live' | 'reconnecting'.
// The browser reconnects by itself after a dropped stream, but gives up for good on an
// answer other than 200 (lattice-web restarting, the kernel away: 503): then a new stream is
// opened after a pause, resuming with `since` at the last event seen, so still nothing is
// missed or seen twice.
const kRetryFirstMs = 1000;
const kRetryMaxMs = 30000;

export function useStoreEvents(store, query, handlers) {
  const [state, setState] = useState('connecting');
  const latest = useRef(handlers);
  latest.current = handlers;
  const path = store ? `stores/${segment(store)}/events` : null;
  const key = path ? apiUrl(path, query) : null;

  useEffect(() => {
    if (!key) return undefined;
    let source = null;
    let timer = null;
    let lastId = null;
    let retryMs = kRetryFirstMs;
    let stopped = false;

    const open = () => {
      const url = lastId === null ? key : apiUrl(path, { ...query, since: lastId });
      source = new EventSource(url, { withCredentials: true });
      source.onopen = () => {
        retryMs = kRetryFirstMs;
        setState('live');
      };
      source.onerror = () => {
        if (source.readyState !== EventSource.CLOSED) {
          setState('reconnecting');
          return;
        }
        source.close();
        if (stopped) return;
        setState('reconnecting');
        timer = setTimeout(open, retryMs);
        retryMs = Math.min(retryMs * 2, kRetryMaxMs);
      };
      for (const type of Object.keys(latest.current)) {
        source.addEventListener(type, (event) => {
          if (event.lastEventId) lastId = event.lastEventId;
          let data = null;
          try {
            data = JSON.parse(event.data);
          } catch {
            return;
          }
          const handler = latest.current[type];
          if (handler) handler(data, event);
        });
      }
    };

    setState('connecting');
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      if (source) source.close();
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
