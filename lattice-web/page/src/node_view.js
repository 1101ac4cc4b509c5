// The node: who it is, how long it has run, whether anything needs the operator.
import { useMemo } from 'preact/hooks';
import { api } from './api.js';
import { useNow } from './clock.js';
import { duration } from './format.js';
import { html } from './html.js';
import { useLoad } from './live.js';
import { Badge, Card, ErrorNote } from './ui.js';

// Reasons the node is not plainly healthy, in the operator's words.
export function healthProblems(status) {
  const problems = [];
  for (const author of status.forked_authors || []) problems.push(`author ${author.slice(0, 12)}… signed a fork`);
  for (const line of status.revocations || []) problems.push(line);
  for (const b of status.bootstraps || []) {
    if (!b.done) problems.push(`store ${b.store_name || b.store_id} is still being fetched (${b.received}/${b.total})`);
  }
  return problems;
}

export function NodeView({ version }) {
  const { data: status, error } = useLoad(() => api('GET', 'node'), [version]);
  const loadedAt = useMemo(() => Date.now(), [status]);
  const now = useNow();
  if (!status) {
    return html`<${Card} title="Node" testid="node"><${ErrorNote} error=${error} />
      ${error ? null : html`<p class="muted">Loading…</p>`}</${Card}>`;
  }
  const node = status.node || {};
  const problems = healthProblems(status);
  const uptime = Number(status.uptime_ms || 0) + (now - loadedAt);
  return html`
    <${Card} title="Node" testid="node">
      <${ErrorNote} error=${error} />
      <dl class="facts">
        <dt>Name</dt><dd data-testid="node-name">${node.name}</dd>
        <dt>Id</dt><dd><code class="id" data-testid="node-id">${node.node_id}</code></dd>
        <dt>Health</dt>
        <dd><${Badge} testid="node-health" text=${problems.length ? 'warning' : 'ok'} />
          ${problems.length ? html`<ul class="problems">${problems.map((p) => html`<li>${p}</li>`)}</ul>` : null}</dd>
        <dt>Uptime</dt><dd data-testid="node-uptime">${duration(uptime)}</dd>
        <dt>Version</dt><dd data-testid="node-version">${node.version}</dd>
        <dt>Peers</dt><dd>${status.peers_connected} connected of ${status.peers_known} known</dd>
        <dt>Listens on</dt><dd>${(status.listen_addresses || []).join(', ') || 'no peer port'}</dd>
        <dt>Stores</dt><dd>${(status.stores || []).length}</dd>
        <dt>Root store</dt><dd><code class="id">${node.root_store_id}</code></dd>
      </dl>
    </${Card}>`;
}
