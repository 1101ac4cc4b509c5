// A key-value store: keys by prefix, page by page; putting and deleting; every head of a
// key (the losers of a conflict too); and changes as they happen, from this node or any peer.
import { useState } from 'preact/hooks';
import { api, segment } from './api.js';
import { hlcText, shortId, valueText } from './format.js';
import { applyChange } from './key_page.js';
import { html } from './html.js';
import { useLoad, useStoreEvents } from './live.js';
import { ActionButton, Badge, Card, Empty, ErrorNote } from './ui.js';

const kPageSize = 50;
const kChangesShown = 50;

function keyPath(store, key) {
  return `stores/${segment(store)}/keys/${segment(key)}`;
}

function PutForm({ store, onPut }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      await api('PUT', keyPath(store, key), { body: { value } });
      onPut(key);
      setKey('');
      setValue('');
    } catch (failure) {
      setError(failure);
    }
  };
  return html`
    <form class="inline-form" data-testid="put-form" onSubmit=${submit}>
      <input placeholder="key" value=${key} required data-testid="put-key" aria-label="Key"
        onInput=${(e) => setKey(e.currentTarget.value)} />
      <input placeholder="value" value=${value} data-testid="put-value" aria-label="Value" class="wide"
        onInput=${(e) => setValue(e.currentTarget.value)} />
      <button type="submit" class="btn btn-primary" data-testid="put-submit" disabled=${!key}>Put</button>
      <${ErrorNote} error=${error} />
    </form>`;
}

function HeadsPanel({ store, keyName, onClose }) {
  const { data, error } = useLoad(() => api('GET', keyPath(store, keyName) + '?inspect'), [store, keyName]);
  return html`
    <div class="panel" data-testid="heads-panel">
      <header class="panel-head">
        <h3>Heads of <code>${keyName}</code></h3>
        ${data ? html`<${Badge} testid="heads-conflicted" text=${data.conflicted ? 'conflicted' : 'single head'} />` : null}
        <button type="button" class="btn" data-testid="heads-close" onClick=${onClose}>Close</button>
      </header>
      <${ErrorNote} error=${error} />
      ${data ? html`
        <p class="muted small">The first head wins; the others are concurrent writes kept until a new write supersedes them.</p>
        <table class="table">
          <thead><tr><th></th><th>Value</th><th>Author</th><th>Clock</th><th>Hash</th></tr></thead>
          <tbody>${(data.heads || []).map((head, i) => html`
            <tr key=${head.hash} data-testid="head-row">
              <td>${i === 0 ? html`<${Badge} text="winner" tone="good" />` : null}</td>
              <td class="value" data-testid="head-value">${valueText(head)}</td>
              <td><code class="id" title=${head.author}>${shortId(head.author)}</code></td>
              <td class="small">${hlcText(head.hlc)}</td>
              <td><code class="id" title=${head.hash}>${shortId(head.hash)}</code></td>
            </tr>`)}
          </tbody>
        </table>` : null}
    </div>`;
}

export function KvView({ store }) {
  const [prefix, setPrefix] = useState('');
  const [prefixInput, setPrefixInput] = useState('');
  const [cursors, setCursors] = useState(['']);  // page starts: the cursor of each page seen
  const [page, setPage] = useState(null);
  const [inspecting, setInspecting] = useState(null);
  const [changes, setChanges] = useState([]);
  const [error, setError] = useState(null);
  const cursor = cursors[cursors.length - 1];

  const { error: loadError, reload } = useLoad(async () => {
    const result = await api('GET', `stores/${segment(store)}/keys`,
      { query: { prefix, limit: kPageSize, cursor } });
    setPage({ entries: result.entries || [], next_cursor: result.next_cursor || null, first_page: !cursor });
    return result;
  }, [store, prefix, cursor]);

  const live = useStoreEvents(store, { prefix }, {
    change: (change) => {
      setChanges((old) => [change, ...old].slice(0, kChangesShown));
      setPage((old) => applyChange(old, change));
    },
  });

  const search = (event) => {
    event.preventDefault();
    setPrefix(prefixInput);
    setCursors(['']);
  };
  const remove = async (key) => {
    await api('DELETE', keyPath(store, key));
    reload();
  };

  return html`
    <div class="stack">
      <${Card} title="Keys" testid="keys" actions=${html`<${Badge} testid="live-state" text=${live} />`}>
        <form class="inline-form" data-testid="key-search-form" onSubmit=${search}>
          <input placeholder="key prefix" value=${prefixInput} data-testid="key-prefix" aria-label="Key prefix"
            onInput=${(e) => setPrefixInput(e.currentTarget.value)} />
          <button type="submit" class="btn" data-testid="key-search">Search</button>
        </form>
        <${PutForm} store=${store} onPut=${reload} />
        <${ErrorNote} error=${loadError || error} />
        ${inspecting !== null ? html`<${HeadsPanel} store=${store} keyName=${inspecting} onClose=${() => setInspecting(null)} />` : null}
        ${!page || page.entries.length === 0
          ? html`<${Empty}>${page ? (prefix ? `No keys start with “${prefix}”.` : 'No keys yet.') : 'Loading…'}</${Empty}>`
          : html`
            <table class="table" data-testid="key-table">
              <thead><tr><th>Key</th><th>Value</th><th></th></tr></thead>
              <tbody>${page.entries.map((entry) => html`
                <tr key=${entry.key} data-testid="key-row" data-key=${entry.key} class=${entry.fresh ? 'fresh' : ''}>
                  <td><code>${entry.key}</code>
                    ${entry.conflicted ? html` <${Badge} text="conflicted" testid="key-conflicted" />` : null}</td>
                  <td class="value" data-testid="key-value">${valueText(entry)}</td>
                  <td class="row-actions">
                    <button type="button" class="btn" data-testid="key-inspect"
                      onClick=${() => setInspecting(entry.key)}>Heads</button>
                    <${ActionButton} kind="danger" testid="key-delete" onError=${setError}
                      action=${() => remove(entry.key)}>Delete</${ActionButton}>
                  </td>
                </tr>`)}
              </tbody>
            </table>`}
        <div class="pager">
          <button type="button" class="btn" data-testid="page-prev" disabled=${cursors.length < 2}
            onClick=${() => setCursors(cursors.slice(0, -1))}>Previous</button>
          <span class="muted">Page ${cursors.length}</span>
          <button type="button" class="btn" data-testid="page-next" disabled=${!page || !page.next_cursor}
            onClick=${() => setCursors([...cursors, page.next_cursor])}>Next</button>
        </div>
      </${Card}>
      <${Card} title="Live changes" testid="changes">
        ${changes.length === 0
          ? html`<${Empty}>Changes to ${prefix ? `keys under “${prefix}”` : 'this store'} appear here as they happen.</${Empty}>`
          : html`<ol class="changes">${changes.map((c) => html`
              <li key=${c.cursor} data-testid="change-event" data-key=${c.key}>
                <span class="muted">#${c.cursor}</span> <code>${c.key}</code>
                ${c.deleted ? html` <${Badge} text="deleted" tone="bad" />` : html` = <span class="value">${valueText(c)}</span>`}
                <span class="muted small"> by ${shortId(c.author)}</span>
              </li>`)}</ol>`}
      </${Card}>
    </div>`;
}
