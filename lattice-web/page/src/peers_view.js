// Peers of every mesh this node is in: their state, renaming and revoking them, and
// invitations whose single-use token the operator copies to the joining machine.
import { useState } from 'preact/hooks';
import { api, segment } from './api.js';
import { useNow } from './clock.js';
import { ago, shortId, timestamp } from './format.js';
import { html } from './html.js';
import { useLoad } from './live.js';
import { ActionButton, Badge, Card, CopyButton, Empty, ErrorNote } from './ui.js';

function peerPath(peer) {
  return `peers/${segment(peer.node_id)}`;
}

function RenameForm({ peer, onDone }) {
  const [name, setName] = useState(peer.name || '');
  const [error, setError] = useState(null);
  const save = async (event) => {
    event.preventDefault();
    try {
      await api('PATCH', peerPath(peer), { body: { name: name.trim(), mesh: peer.mesh_id } });
      onDone(true);
    } catch (failure) {
      setError(failure);
    }
  };
  return html`
    <form class="inline-form" onSubmit=${save} data-testid="peer-rename-form">
      <input value=${name} required maxlength="64" data-testid="peer-rename-input"
        onInput=${(e) => setName(e.currentTarget.value)} aria-label="New name" />
      <button type="submit" class="btn btn-primary" data-testid="peer-rename-save">Save</button>
      <button type="button" class="btn" onClick=${() => onDone(false)}>Cancel</button>
      <${ErrorNote} error=${error} />
    </form>`;
}

function PeerRow({ peer, now, onChanged }) {
  const [renaming, setRenaming] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const revoke = async () => {
    await api('DELETE', peerPath(peer), { query: { mesh: peer.mesh_id } });
    setConfirming(false);
    onChanged();
  };
  const status = peer.forked ? 'forked' : peer.status;
  return html`
    <tr data-testid="peer-row" data-node-id=${peer.node_id}>
      <td>
        ${renaming
          ? html`<${RenameForm} peer=${peer} onDone=${(changed) => { setRenaming(false); if (changed) onChanged(); }} />`
          : html`<strong data-testid="peer-name">${peer.name || '(unnamed)'}</strong>
                 ${peer.self ? html` <span class="muted">(this node)</span>` : null}`}
        <div><code class="id" title=${peer.node_id}>${shortId(peer.node_id, 16)}</code></div>
      </td>
      <td><${Badge} text=${status} testid="peer-status" />
        ${peer.status === 'revoked' && peer.revoked_by ? html`<div class="muted small">by ${shortId(peer.revoked_by, 8)}
          ${Number(peer.revoked_at_ms) ? ` ${ago(peer.revoked_at_ms, now)}` : ''}</div>` : null}</td>
      <td>${peer.self ? '—' : html`<${Badge} text=${peer.connected ? 'connected' : 'offline'} testid="peer-connected" />`}
        ${peer.remote_address ? html`<div class="muted small">${peer.remote_address}</div>` : null}</td>
      <td class="small">${(peer.addresses || []).map((a) => html`<div>${a}</div>`)}</td>
      <td title=${timestamp(peer.last_seen_ms)}>${peer.self ? '—' : ago(peer.last_seen_ms, now)}</td>
      <td data-testid="peer-lag">${peer.self ? '—' : peer.lag}
        ${!peer.self && Number(peer.last_sync_ms) ? html`<div class="muted small">synced ${ago(peer.last_sync_ms, now)}</div>` : null}</td>
      <td class="row-actions">
        ${!renaming ? html`<button type="button" class="btn" data-testid="peer-rename"
            onClick=${() => setRenaming(true)}>Rename</button>` : null}
        ${!peer.self && peer.status !== 'revoked' && (confirming
          ? html`<span class="confirm">Revoke ${peer.name || 'this node'}?
              <${ActionButton} kind="danger" testid="peer-revoke-confirm" action=${revoke}>Revoke</${ActionButton}>
              <button type="button" class="btn" onClick=${() => setConfirming(false)}>Cancel</button></span>`
          : html`<button type="button" class="btn btn-danger" data-testid="peer-revoke"
              onClick=${() => setConfirming(true)}>Revoke</button>`)}
      </td>
    </tr>`;
}

function Invitation({ invitation, onClose }) {
  return html`
    <div class="invitation" data-testid="invitation">
      <p>Run on the joining machine: <code>lattice-ctl peer join TOKEN</code>. The token works once
        and expires ${timestamp(invitation.expires_ms) || 'in 24 hours'}.</p>
      <div class="token-line">
        <input readonly class="token" data-testid="invite-token" value=${invitation.token}
          aria-label="Invitation token" onFocus=${(e) => e.currentTarget.select()} />
        <${CopyButton} text=${invitation.token} testid="invite-copy" />
        <button type="button" class="btn" onClick=${onClose}>Done</button>
      </div>
      ${(invitation.addresses || []).length
        ? html`<p class="muted small">The joiner will dial ${invitation.addresses.join(', ')}.</p>`
        : html`<p class="muted small">This node announces no address: the joiner must reach it some other way.</p>`}
    </div>`;
}

export function PeersView({ version }) {
  const { data, error, reload } = useLoad(() => api('GET', 'peers'), [version]);
  const [invitation, setInvitation] = useState(null);
  const [inviteError, setInviteError] = useState(null);
  const now = useNow(5000);
  const invite = async () => {
    setInviteError(null);
    setInvitation(await api('POST', 'peers/invitations', { body: {} }));
  };
  const peers = (data && data.peers) || [];
  return html`
    <${Card} title="Peers" testid="peers" actions=${html`
      <${ActionButton} kind="primary" testid="peer-invite" action=${invite}
        onError=${setInviteError}>Invite a peer</${ActionButton}>`}>
      <${ErrorNote} error=${error || inviteError} />
      ${invitation ? html`<${Invitation} invitation=${invitation} onClose=${() => setInvitation(null)} />` : null}
      ${peers.length === 0
        ? html`<${Empty}>${data ? 'No peers yet: invite one.' : 'Loading…'}</${Empty}>`
        : html`
          <table class="table" data-testid="peer-table">
            <thead><tr><th>Name</th><th>Status</th><th>Link</th><th>Addresses</th>
              <th>Last seen</th><th>Sync lag</th><th></th></tr></thead>
            <tbody>${peers.map((peer) => html`
              <${PeerRow} key=${peer.mesh_id + peer.node_id} peer=${peer} now=${now} onChanged=${reload} />`)}
            </tbody>
          </table>`}
    </${Card}>`;
}
