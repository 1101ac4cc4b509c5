// Every store of the node: creating one, archiving and bringing one back, and opening one
// to browse its keys or chat history.
import { useState } from 'preact/hooks';
import { api, segment } from './api.js';
import { html } from './html.js';
import { useLoad } from './live.js';
import { ActionButton, Badge, Card, Empty, ErrorNote } from './ui.js';

function CreateStoreForm({ onCreated }) {
  const [name, setName] = useState('');
  const [type, setType] = useState('kv');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const store = await api('POST', 'stores', { body: { name: name.trim(), type } });
      setName('');
      onCreated(store);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="inline-form" data-testid="store-create-form" onSubmit=${submit}>
      <input placeholder="New store name" value=${name} required maxlength="128"
        data-testid="store-create-name" aria-label="Store name"
        onInput=${(e) => setName(e.currentTarget.value)} />
      <select value=${type} data-testid="store-create-type" aria-label="Store type"
        onChange=${(e) => setType(e.currentTarget.value)}>
        <option value="kv">key-value</option>
        <option value="chat">chat</option>
      </select>
      <button type="submit" class="btn btn-primary" data-testid="store-create-submit"
        disabled=${busy || !name.trim()}>Create</button>
      <${ErrorNote} error=${error} />
    </form>`;
}

export function StoresView({ version }) {
  const { data, error, reload } = useLoad(
    () => api('GET', 'stores', { query: { include_archived: 'true' } }), [version]);
  const stores = ((data && data.stores) || []).slice()
    .sort((a, b) => (a.type === 'root') - (b.type === 'root') || a.name.localeCompare(b.name));
  const setArchived = async (store, archived) => {
    await api('POST', `stores/${segment(store.id)}/${archived ? 'archive' : 'unarchive'}`);
    reload();
  };
  return html`
    <${Card} title="Stores" testid="stores">
      <${CreateStoreForm} onCreated=${(store) => { reload(); window.location.hash = '#/stores/' + segment(store.id); }} />
      <${ErrorNote} error=${error} />
      ${stores.length === 0
        ? html`<${Empty}>${data ? 'No stores.' : 'Loading…'}</${Empty}>`
        : html`
          <table class="table" data-testid="store-table">
            <thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Intentions</th>
              <th>Floating</th><th></th></tr></thead>
            <tbody>${stores.map((store) => html`
              <tr key=${store.id} data-testid="store-row" data-store-name=${store.name}>
                <td><a href=${'#/stores/' + segment(store.id)} data-testid="store-open">${store.name}</a>
                  <div><code class="id">${store.id}</code></div></td>
                <td>${store.type}</td>
                <td><${Badge} text=${store.status} testid="store-status" /></td>
                <td>${store.intentions}</td>
                <td>${store.floating}</td>
                <td class="row-actions">${store.type === 'root' ? null : store.status === 'archived'
                  ? html`<${ActionButton} testid="store-unarchive" action=${() => setArchived(store, false)}>Unarchive</${ActionButton}>`
                  : html`<${ActionButton} testid="store-archive" action=${() => setArchived(store, true)}>Archive</${ActionButton}>`}</td>
              </tr>`)}
            </tbody>
          </table>`}
    </${Card}>`;
}
