// Service tokens: what a program outside the node (lattice-web's REST clients, a daemon)
// presents. Each is scoped to stores, key prefixes and rights; its secret is shown once.
import { useState } from 'preact/hooks';
import { api, segment } from './api.js';
import { base64ToText, shortId, textToBase64, timestamp } from './format.js';
import { html } from './html.js';
import { useLoad } from './live.js';
import { Badge, Card, ConfirmButton, CopyButton, Empty, ErrorNote } from './ui.js';

const kRights = ['read', 'write', 'watch'];
const kDayS = 86400;

function CreateTokenForm({ stores, onCreated }) {
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState([]);
  const [rights, setRights] = useState(['read', 'watch']);
  const [prefix, setPrefix] = useState('');
  const [days, setDays] = useState('');
  const [error, setError] = useState(null);
  const toggle = (list, set, value) => set(list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const created = await api('POST', 'tokens', { body: {
        name: name.trim(),
        stores: chosen,
        rights,
        prefixes: prefix ? [textToBase64(prefix)] : [],
        ttl_seconds: days ? String(Math.round(Number(days) * kDayS)) : '0',
      } });
      setName('');
      setPrefix('');
      onCreated(created);
    } catch (failure) {
      setError(failure);
    }
  };
  return html`
    <form class="token-form" data-testid="token-create-form" onSubmit=${submit}>
      <div class="inline-form">
        <input placeholder="Token name" value=${name} required maxlength="64" data-testid="token-name"
          aria-label="Token name" onInput=${(e) => setName(e.currentTarget.value)} />
        <input placeholder="key prefix (optional)" value=${prefix} aria-label="Key prefix"
          onInput=${(e) => setPrefix(e.currentTarget.value)} />
        <input placeholder="expires in days (optional)" value=${days} type="number" min="0" step="any"
          aria-label="Expires in days" onInput=${(e) => setDays(e.currentTarget.value)} />
      </div>
      <fieldset>
        <legend>Stores</legend>
        ${stores.filter((s) => s.type !== 'root').map((s) => html`
          <label class="check"><input type="checkbox" checked=${chosen.includes(s.id)}
            data-testid="token-store" data-store-name=${s.name}
            onChange=${() => toggle(chosen, setChosen, s.id)} /> ${s.name}</label>`)}
      </fieldset>
      <fieldset>
        <legend>Rights</legend>
        ${kRights.map((r) => html`
          <label class="check"><input type="checkbox" checked=${rights.includes(r)}
            onChange=${() => toggle(rights, setRights, r)} /> ${r}</label>`)}
      </fieldset>
      <button type="submit" class="btn btn-primary" data-testid="token-create"
        disabled=${!name.trim() || chosen.length === 0 || rights.length === 0}>Create token</button>
      <${ErrorNote} error=${error} />
    </form>`;
}

export function TokensView({ version }) {
  const { data, error, reload } = useLoad(() => api('GET', 'tokens'), [version]);
  const storeList = useLoad(() => api('GET', 'stores'), [version]);
  const [created, setCreated] = useState(null);
  const [actionError, setActionError] = useState(null);
  const stores = (storeList.data && storeList.data.stores) || [];
  const nameOf = new Map(stores.map((s) => [s.id, s.name]));
  const tokens = ((data && data.tokens) || []).slice().sort((a, b) => Number(b.created_ms) - Number(a.created_ms));
  const revoke = async (token) => {
    await api('DELETE', `tokens/${segment(token.id)}`);
    reload();
  };
  return html`
    <div class="stack">
      <${Card} title="New token" testid="token-new">
        <${CreateTokenForm} stores=${stores} onCreated=${(answer) => { setCreated(answer); reload(); }} />
        ${created ? html`
          <div class="invitation" data-testid="token-created">
            <p>The secret of <strong>${created.info ? created.info.name : ''}</strong>: it is shown
              only now. Give it to the program as <code>Authorization: Bearer …</code>.</p>
            <div class="token-line">
              <input readonly class="token" data-testid="token-secret" value=${created.token}
                aria-label="Token secret" onFocus=${(e) => e.currentTarget.select()} />
              <${CopyButton} text=${created.token} testid="token-copy" />
              <button type="button" class="btn" onClick=${() => setCreated(null)}>Done</button>
            </div>
          </div>` : null}
      </${Card}>
      <${Card} title="Tokens" testid="tokens">
        <${ErrorNote} error=${error || actionError} />
        ${tokens.length === 0 ? html`<${Empty}>${data ? 'No tokens.' : 'Loading…'}</${Empty}>` : html`
          <table class="table" data-testid="token-table">
            <thead><tr><th>Name</th><th>Stores</th><th>Rights</th><th>Prefixes</th><th>Created</th>
              <th>Expires</th><th></th></tr></thead>
            <tbody>${tokens.map((t) => html`
              <tr key=${t.id} data-testid="token-row" data-token-name=${t.name}>
                <td><strong>${t.name}</strong><div><code class="id">${shortId(t.id)}</code></div></td>
                <td class="small">${(t.stores || []).map((s) => html`<div>${nameOf.get(s) || shortId(s)}</div>`)}</td>
                <td class="small">${(t.rights || []).join(', ')}</td>
                <td class="small">${(t.prefixes || []).length
                  ? t.prefixes.map((p) => html`<div><code>${base64ToText(p)}</code></div>`)
                  : html`<span class="muted">every key</span>`}</td>
                <td class="small">${timestamp(t.created_ms)}</td>
                <td class="small">${Number(t.expires_ms) ? timestamp(t.expires_ms) : 'never'}</td>
                <td class="row-actions">${t.revoked
                  ? html`<${Badge} text="revoked" />`
                  : html`<${ConfirmButton} label="Revoke" question=${`Revoke ${t.name}?`} testid="token-revoke"
                      onError=${setActionError} action=${() => revoke(t)} />`}</td>
              </tr>`)}</tbody>
          </table>`}
      </${Card}>
    </div>`;
}
