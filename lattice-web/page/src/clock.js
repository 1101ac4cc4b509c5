// A re-render every `period` ms, for uptimes and "seen 5s ago" that age on screen.
import { useEffect, useState } from 'preact/hooks';

export function useNow(period = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), period);
    return () => clearInterval(timer);
  }, [period]);
  return now;
}
