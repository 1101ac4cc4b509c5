// One store opened from the list (#/stores/ID): what it is, then its keys or its chat.
import { api, segment } from './api.js';
import { html } from './html.js';
import { ChatView } from './chat_view.js';
import { KvView } from './kv_view.js';
import { useLoad } from './live.js';
import { Badge, Card, Empty, ErrorNote } from './ui.js';

export function StoreView({ store }) {
  const { data: info, error } = useLoad(() => api('GET', `stores/${segment(store)}`), [store]);
  return html`
    <div class="stack" data-testid="store-view">
      <p><a href="#/stores" data-testid="stores-back">← All stores</a></p>
      <${Card} title=${info ? info.name : store} testid="store-info">
        <${ErrorNote} error=${error} />
        ${info ? html`
          <dl class="facts">
            <dt>Id</dt><dd><code class="id" data-testid="store-id">${info.id}</code></dd>
            <dt>Type</dt><dd data-testid="store-type">${info.type}</dd>
            <dt>Status</dt><dd><${Badge} text=${info.status} /></dd>
            <dt>Intentions</dt><dd>${info.intentions} witnessed, ${info.floating} floating</dd>
          </dl>` : null}
      </${Card}>
      ${!info ? null
        : info.type === 'chat' ? html`<${ChatView} store=${info.id} />`
        : info.type === 'fs' ? html`<${Card} title="Files"><${Empty}>A file store is browsed by mounting it with lattice-fuse.</${Empty}></${Card}>`
        : html`<${KvView} store=${info.id} />`}
    </div>`;
}
