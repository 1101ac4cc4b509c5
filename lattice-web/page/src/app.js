// The page's frame: the session (login form until there is one), the navigation between
// sections (kept in the URL's fragment, so reloading or sharing a link lands in the same
// place), and the root store's event stream that makes every section refetch what changed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, onUnauthorized } from './api.js';
import { html } from './html.js';
import { useStoreEvents } from './live.js';
import { Login } from './login.js';
import { NodeView } from './node_view.js';
import { PeersView } from './peers_view.js';
import { ServicesView } from './services_view.js';
import { StoreView } from './store_view.js';
import { StoresView } from './stores_view.js';
import { TokensView } from './tokens_view.js';
import { Badge, ErrorNote } from './ui.js';

// Bursts of root-store changes (a service starting writes several records) cause one refetch.
const kRefetchDelayMs = 250;

function useRoute() {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

// A number that grows shortly after changes in the node's root store: peers, services,
// discovery records and store lists all live there.
function useRootVersion(rootStore) {
  const [version, setVersion] = useState(0);
  const timer = useRef(null);
  const bump = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setVersion((v) => v + 1), kRefetchDelayMs);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  const state = useStoreEvents(rootStore, {}, { change: bump, message: bump });
  return { version, state };
}

function Nav({ section }) {
  const item = (id, label) => html`
    <a href=${'#/' + id} data-testid=${'nav-' + id} class=${section === id ? 'current' : ''}
      aria-current=${section === id ? 'page' : undefined}>${label}</a>`;
  return html`<nav class="nav">${item('overview', 'Overview')}${item('stores', 'Stores')}${item('services', 'Services')}${item('tokens', 'Tokens')}</nav>`;
}

function OpenStoreForm() {
  const [name, setName] = useState('');
  const open = (event) => {
    event.preventDefault();
    window.location.hash = '#/stores/' + encodeURIComponent(name.trim());
  };
  return html`
    <form class="inline-form card" onSubmit=${open}>
      <p>This token is not the node's admin: open a store it may read.</p>
      <input placeholder="store name or id" value=${name} required aria-label="Store"
        onInput=${(e) => setName(e.currentTarget.value)} data-testid="store-open-name" />
      <button type="submit" class="btn btn-primary">Open</button>
    </form>`;
}

function Dashboard({ session, onLogout }) {
  const route = useRoute();
  const node = session.node || {};
  const { version, state } = useRootVersion(session.admin ? node.root_store_id : null);
  const section = route[0] || 'overview';
  let body;
  if (!session.admin) {
    body = section === 'stores' && route[1] ? html`<${StoreView} store=${route[1]} />` : html`<${OpenStoreForm} />`;
  } else if (section === 'stores' && route[1]) {
    body = html`<${StoreView} key=${route[1]} store=${route[1]} />`;
  } else if (section === 'stores') {
    body = html`<${StoresView} version=${version} />`;
  } else if (section === 'services') {
    body = html`<${ServicesView} version=${version} />`;
  } else if (section === 'tokens') {
    body = html`<${TokensView} version=${version} />`;
  } else {
    body = html`<div class="stack"><${NodeView} version=${version} /><${PeersView} version=${version} /></div>`;
  }
  return html`
    <div class="frame">
      <header class="top">
        <div class="brand">Lattice <span class="muted" data-testid="top-node-name">${node.name}</span></div>
        ${session.admin ? html`<${Nav} section=${section} />` : null}
        <div class="top-right">
          ${session.admin ? html`<${Badge} testid="root-live" text=${state} />` : null}
          <button type="button" class="btn" data-testid="logout" onClick=${onLogout}>Log out</button>
        </div>
      </header>
      <main class="content">${body}</main>
    </div>`;
}

// Whether this browser logged in before (not a secret: the session itself is the HttpOnly
// cookie, which the page cannot read).
const kSessionHint = 'lattice.session';
function hadSession() {
  try {
    return window.localStorage.getItem(kSessionHint) === '1';
  } catch {
    return true;  // storage refused: ask the server
  }
}
function rememberSession(present) {
  try {
    if (present) window.localStorage.setItem(kSessionHint, '1');
    else window.localStorage.removeItem(kSessionHint);
  } catch {
    // Storage refused (private mode): the page asks the server on every visit instead.
  }
}

export function App() {
  // undefined: asking the server; null: logged out; else {admin, node}.
  const [session, setSession] = useState(undefined);
  const [notice, setNotice] = useState(null);

  useEffect(() => {
    // Without a sign of an earlier login there is nothing to ask: a first visit goes straight
    // to the form instead of drawing a 401 (which browsers log as a console error).
    if (!hadSession()) {
      setSession(null);
      return onUnauthorized(ended);
    }
    api('GET', 'session', { quietUnauthorized: true }).then(
      (answer) => setSession(answer && answer.node ? answer : null),
      (failure) => {
        setSession(null);
        if (failure.status !== 401) setNotice(failure);
      });
    return onUnauthorized(ended);
  }, []);
  useEffect(() => {
    if (session !== undefined) rememberSession(session !== null);
  }, [session]);
  function ended() {
    setSession(null);
    setNotice(new Error('The session ended: log in again.'));
  }

  const logout = async () => {
    try {
      await api('DELETE', 'session', { quietUnauthorized: true });
    } catch {
      // Logged out already, or the server is away: either way the cookie is no use now.
    }
    setSession(null);
  };

  if (session === undefined) return html`<p class="muted loading">Loading…</p>`;
  if (session === null) {
    return html`<div><${ErrorNote} error=${notice} testid="session-notice" />
      <${Login} onSession=${(s) => { setNotice(null); setSession(s); }} /></div>`;
  }
  return html`<${Dashboard} session=${session} onLogout=${logout} />`;
}
