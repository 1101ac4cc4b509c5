// How numbers, times and ids read on the page.

export function shortId(id, digits = 12) {
  if (!id) return '';
  return id.length > digits ? id.slice(0, digits) + '…' : id;
}

// "3d 4h", "5m 12s": the two largest units of a duration in milliseconds.
export function duration(ms) {
  let seconds = Math.max(0, Math.floor(Number(ms) / 1000));
  const units = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const parts = [];
  for (const [name, size] of units) {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    if (count > 0 || (parts.length === 0 && name === 's')) parts.push(count + name);
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

// "12s ago", "never" for a wall-clock time in milliseconds (uint64 arrives as a string).
export function ago(ms, now = Date.now()) {
  const value = Number(ms || 0);
  if (!value) return 'never';
  const delta = now - value;
  if (delta < 1000) return 'just now';
  return duration(delta) + ' ago';
}

export function timestamp(ms) {
  const value = Number(ms || 0);
  if (!value) return '';
  return new Date(value).toLocaleString();
}

// A value for a table cell: the text when the server gave UTF-8, else a byte count.
export function valueText(entry) {
  if (entry.deleted) return '(deleted)';
  if (typeof entry.value === 'string') return entry.value;
  if (entry.value_base64) {
    const bytes = Math.floor((entry.value_base64.replace(/=+$/, '').length * 3) / 4);
    return `(${bytes} bytes of binary)`;
  }
  return '';
}

export function hlcText(hlc) {
  if (!hlc) return '';
  const wall = Number(hlc.wall_ms || 0);
  return `${wall ? new Date(wall).toISOString() : '0'} #${hlc.counter || 0}`;
}

// Bytes fields (prefixes, keys of a token) travel as base64 in the protobuf JSON mapping.
export function textToBase64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function base64ToText(encoded) {
  try {
    const binary = atob(encoded || '');
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return '(not base64)';
  }
}

// A "modes" chat entry's changes as IRC writes them: "+tk sesame", "-l", "+i-m".
export function modesText(changes) {
  let signs = '';
  let sign = '';
  const args = [];
  for (const change of changes || []) {
    const next = change.on ? '+' : '-';
    if (next !== sign) signs += next;
    sign = next;
    signs += change.mode;
    if (change.arg) args.push(change.arg);
  }
  return [signs, ...args].join(' ');
}
