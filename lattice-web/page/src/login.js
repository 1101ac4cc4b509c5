// The login form: a token pasted once, exchanged for an HttpOnly session cookie by POST
// /api/v1/session. The token lives only in this form's state until the answer comes back; its
// field has no name and the form posts, so even a submit without the script sends it nowhere.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { html } from './html.js';
import { ErrorNote } from './ui.js';

export function Login({ onSession }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api('POST', 'session', { body: { token: token.trim() }, quietUnauthorized: true });
      setToken('');
      onSession(session);
    } catch (failure) {
      setError(failure.status === 401 ? new Error('The kernel refused this token.') : failure);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <main class="login">
      <form class="card login-card" data-testid="login-form" onSubmit=${submit} autocomplete="off"
        method="post">
        <h1>Lattice</h1>
        <p class="muted">Paste the node's admin cookie (<code>admin.cookie</code> next to the
          kernel's socket) or a service token.</p>
        <label for="login-token">Token</label>
        <input id="login-token" type="password" data-testid="login-token" value=${token}
          autocomplete="off" spellcheck="false" required
          onInput=${(e) => setToken(e.currentTarget.value)} />
        <button type="submit" class="btn btn-primary" data-testid="login-submit"
          disabled=${busy || !token.trim()}>Log in</button>
        <${ErrorNote} error=${error} testid="login-error" />
      </form>
    </main>`;
}
