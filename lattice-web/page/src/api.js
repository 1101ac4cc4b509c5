// The page's only way to the server: JSON calls under api/v1/ (relative, so the page also
// works behind a proxy that mounts it under a path). The session cookie is HttpOnly and goes
// with every same-origin request; the page never holds a token after login.

// A failed call: the HTTP status and the RFC 9457 problem document (or text) the server sent.
export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem && typeof problem === 'object'
      ? [problem.title, problem.detail].filter(Boolean).join(': ')
      : String(problem || '');
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// Listeners told when any call comes back 401, so the page returns to its login form.
const unauthorizedListeners = new Set();
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function apiUrl(path, query) {
  let url = 'api/v1/' + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
    }
    const text = params.toString();
    if (text) url += '?' + text;
  }
  return url;
}

// Calls METHOD api/v1/PATH with an optional JSON body; resolves to the parsed JSON (null for
// an empty answer), rejects with ApiError.
export async function api(method, path, { body, query, quietUnauthorized = false } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(apiUrl(path, query), init);
  const type = response.headers.get('Content-Type') || '';
  let data = null;
  if (response.status !== 204) {
    const text = await response.text();
    if (text && type.includes('json')) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    } else {
      data = text || null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !quietUnauthorized) {
      for (const listener of unauthorizedListeners) listener();
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

// A store or key as one path segment: keys may hold any bytes, '/' included.
export const segment = encodeURIComponent;
