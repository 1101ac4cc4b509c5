// Services (DESIGN §8): the descriptors this node has, what each mesh declares, this node's
// consent to each (the switch that lets a declaration run here), and the instances running
// here or anywhere in the mesh, with their endpoints and restarts.
import { useEffect, useState } from 'preact/hooks';
import { api, segment } from './api.js';
import { useNow } from './clock.js';
import { duration, shortId } from './format.js';
import { html } from './html.js';
import { useLoad } from './live.js';
import { ActionButton, Badge, Card, ConfirmButton, Empty, ErrorNote } from './ui.js';

const kConsents = [
  ['manual', 'Manual: run nothing'],
  ['follow-mesh', 'Follow the mesh'],
  ['always', 'Always allow'],
  ['block', 'Block'],
];
// Statuses that change by themselves soon: the list is fetched again until they settle,
// in case a discovery record's event was missed.
const kTransitional = new Set(['starting', 'stopping', 'backoff']);
const kSettlePollMs = 2000;

function ConsentSwitch({ serviceId, meshId, consent, onChanged, onError }) {
  const change = async (event) => {
    const value = event.currentTarget.value;
    try {
      await api('PUT', `services/${segment(serviceId)}/consent`, { body: { consent: value, mesh: meshId } });
    } catch (failure) {
      onError(failure);
    }
    onChanged();
  };
  return html`
    <select data-testid="consent-select" data-service=${serviceId} data-mesh=${meshId}
      aria-label=${'Consent to ' + serviceId} value=${consent} onChange=${change}>
      ${kConsents.map(([value, label]) => html`<option value=${value} selected=${value === consent}>${label}</option>`)}
    </select>`;
}

function Settings({ settings }) {
  if (!settings || settings.length === 0) return html`<span class="muted">defaults</span>`;
  return html`<span class="small">${settings.map((s) => `${s.name}=${s.value}`).join(', ')}</span>`;
}

function InstanceRow({ instance, now, local, onChanged, onError }) {
  const control = async (action) => {
    await api('POST', `services/${segment(instance.service_id)}/${action}`, { body: { store: instance.store_id } });
    onChanged();
  };
  const started = Number(instance.started_ms || 0);
  return html`
    <tr data-testid="instance-row" data-service=${instance.service_id} data-store=${instance.store_id}>
      <td><strong>${instance.service_id}</strong>
        <div class="muted small">${instance.store_name || shortId(instance.store_id)}</div></td>
      ${local ? null : html`<td>${instance.node_name || shortId(instance.node_id)}</td>`}
      <td><${Badge} text=${instance.status} testid="instance-status" />
        ${instance.reason ? html`<div class="muted small" data-testid="instance-reason">${instance.reason}</div>` : null}
        ${Number(instance.next_start_in_ms) > 0 ? html`<div class="muted small">next start in ${duration(instance.next_start_in_ms)}</div>` : null}</td>
      <td class="small" data-testid="instance-endpoints">${(instance.endpoints || []).map((e) => html`<div><code>${e}</code></div>`)}</td>
      <td class="small">${started ? `up ${duration(now - started)}` : ''}${local && instance.pid ? html`<div class="muted">pid ${instance.pid}</div>` : null}</td>
      <td data-testid="instance-restarts">${instance.restarts}</td>
      ${local ? html`
        <td class="row-actions">
          <${ActionButton} testid="instance-start" onError=${onError} action=${() => control('start')}>Start</${ActionButton}>
          <${ActionButton} testid="instance-stop" onError=${onError} action=${() => control('stop')}>Stop</${ActionButton}>
          <${ActionButton} testid="instance-reset" onError=${onError} action=${() => control('reset')}>Reset</${ActionButton}>
          ${instance.control ? html`<div class="muted small">operator: ${instance.control}</div>` : null}
        </td>` : null}
    </tr>`;
}

function InstanceTable({ instances, now, local, onChanged, onError, testid }) {
  if (!instances || instances.length === 0) return html`<${Empty}>None.</${Empty}>`;
  return html`
    <table class="table" data-testid=${testid}>
      <thead><tr><th>Service</th>${local ? null : html`<th>Node</th>`}<th>Status</th><th>Endpoints</th>
        <th>Running</th><th>Restarts</th>${local ? html`<th></th>` : null}</tr></thead>
      <tbody>${instances.map((i) => html`<${InstanceRow} key=${i.service_id + i.store_id + (i.node_id || '')}
        instance=${i} now=${now} local=${local} onChanged=${onChanged} onError=${onError} />`)}</tbody>
    </table>`;
}

// Parses "name=value" lines into ServiceSetting objects; blank lines are skipped.
function parseSettings(text) {
  const settings = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) throw new Error(`a setting is name=value: "${trimmed}"`);
    settings.push({ name: trimmed.slice(0, equals).trim(), value: trimmed.slice(equals + 1).trim() });
  }
  return settings;
}

function DeclareForm({ descriptors, stores, onDeclared }) {
  const [serviceId, setServiceId] = useState('');
  const [store, setStore] = useState('');
  const [policy, setPolicy] = useState('Global');
  const [tag, setTag] = useState('');
  const [settings, setSettings] = useState('');
  const [error, setError] = useState(null);
  const descriptor = descriptors.find((d) => d.id === serviceId);
  const fitting = stores.filter((s) => s.status === 'active' && (!descriptor || s.type === descriptor.store_type));
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const local = policy === 'LocalOnly';
      await api('PUT', `services/${segment(serviceId)}`, { body: {
        store,
        policy: local ? '' : policy === 'TaggedNodes' ? `TaggedNodes:${tag.trim()}` : 'Global',
        local,
        settings: parseSettings(settings),
      } });
      setSettings('');
      onDeclared();
    } catch (failure) {
      setError(failure);
    }
  };
  return html`
    <form class="declare-form" data-testid="declare-form" onSubmit=${submit}>
      <div class="inline-form">
        <select value=${serviceId} required aria-label="Service" data-testid="declare-service"
          onChange=${(e) => setServiceId(e.currentTarget.value)}>
          <option value="">Service…</option>
          ${descriptors.map((d) => html`<option value=${d.id} selected=${d.id === serviceId}>${d.id}</option>`)}
        </select>
        <select value=${store} required aria-label="Store" data-testid="declare-store"
          onChange=${(e) => setStore(e.currentTarget.value)}>
          <option value="">Store…</option>
          ${fitting.map((s) => html`<option value=${s.id} selected=${s.id === store}>${s.name}</option>`)}
        </select>
        <select value=${policy} aria-label="Policy" onChange=${(e) => setPolicy(e.currentTarget.value)}>
          <option value="Global">every node of the mesh (Global)</option>
          <option value="TaggedNodes">nodes with a tag</option>
          <option value="LocalOnly">this node only</option>
        </select>
        ${policy === 'TaggedNodes' ? html`<input placeholder="tag" value=${tag} required aria-label="Tag"
          onInput=${(e) => setTag(e.currentTarget.value)} />` : null}
      </div>
      <textarea rows="2" placeholder="settings, one name=value a line (port=6667)" value=${settings}
        aria-label="Settings" onInput=${(e) => setSettings(e.currentTarget.value)}></textarea>
      <button type="submit" class="btn btn-primary" data-testid="declare-submit"
        disabled=${!serviceId || !store}>Declare</button>
      <${ErrorNote} error=${error} />
    </form>`;
}

function DeclarationTable({ declarations, storeNames, onChanged, onError }) {
  if (!declarations || declarations.length === 0) return html`<${Empty}>No declarations.</${Empty}>`;
  return html`
    <table class="table" data-testid="declaration-table">
      <thead><tr><th>Service</th><th>Policy</th><th>Stores</th><th>Settings</th><th>Declared by</th><th></th></tr></thead>
      <tbody>${declarations.map((d) => html`
        <tr key=${d.service_id + d.mesh_id + d.local} data-testid="declaration-row" data-service=${d.service_id}>
          <td><strong>${d.service_id}</strong> ${d.enabled ? null : html`<${Badge} text="disabled" tone="plain" />`}
            ${d.error ? html`<div class="error inline">${d.error}</div>` : null}</td>
          <td>${d.local ? 'LocalOnly' : d.policy}</td>
          <td class="small">${(d.stores || []).map((s) => html`<div>${storeNames.get(s) || html`<code class="id">${shortId(s)}</code>`}</div>`)}</td>
          <td><${Settings} settings=${d.settings} /></td>
          <td>${d.local ? 'this node' : html`<code class="id">${shortId(d.author)}</code>`}</td>
          <td class="row-actions"><${ConfirmButton} label="Undeclare" question=${`Undeclare ${d.service_id}?`}
            testid="undeclare" onError=${onError}
            action=${async () => {
              await api('DELETE', `services/${segment(d.service_id)}`,
                { query: { store: (d.stores || [])[0] || d.mesh_id, local: d.local ? 'true' : '' } });
              onChanged();
            }} /></td>
        </tr>`)}</tbody>
    </table>`;
}

function MeshServices({ mesh, descriptors, storeNames, now, onChanged, onError }) {
  const consentOf = new Map((mesh.consents || []).map((c) => [c.service_id, c.consent]));
  const ids = new Set(descriptors.map((d) => d.id));
  for (const d of mesh.declarations || []) ids.add(d.service_id);
  return html`
    <div class="mesh" data-testid="service-mesh" data-mesh=${mesh.mesh_id}>
      <h3>Mesh <code class="id">${shortId(mesh.mesh_id, 16)}</code>
        ${(mesh.tags || []).length ? html` <span class="muted small">tags: ${mesh.tags.join(', ')}</span>` : null}</h3>
      <h4>Consent of this node</h4>
      <table class="table consents">
        <tbody>${[...ids].sort().map((id) => html`
          <tr key=${id} data-testid="consent-row" data-service=${id}>
            <td><strong>${id}</strong></td>
            <td><${ConsentSwitch} serviceId=${id} meshId=${mesh.mesh_id} consent=${consentOf.get(id) || 'manual'}
              onChanged=${onChanged} onError=${onError} /></td>
          </tr>`)}</tbody>
      </table>
      <h4>Declarations</h4>
      <${DeclarationTable} declarations=${mesh.declarations} storeNames=${storeNames}
        onChanged=${onChanged} onError=${onError} />
      ${mesh.declarations_ignored ? html`<p class="error">${mesh.declarations_ignored} declarations beyond the limit were ignored.</p>` : null}
      <h4>Instances in the mesh</h4>
      <${InstanceTable} instances=${mesh.discovered} now=${now} local=${false} testid="discovered-table" />
    </div>`;
}

export function ServicesView({ version }) {
  const { data, error, reload } = useLoad(() => api('GET', 'services'), [version]);
  const storeList = useLoad(() => api('GET', 'stores'), [version]);
  const stores = (storeList.data && storeList.data.stores) || [];
  const storeNames = new Map(stores.map((s) => [s.id, s.name]));
  const [actionError, setError] = useState(null);  // the last failed action of the section
  const now = useNow();
  const instances = (data && data.instances) || [];
  const settling = instances.some((i) => kTransitional.has(i.status));
  useEffect(() => {
    if (!settling) return undefined;
    const timer = setTimeout(reload, kSettlePollMs);
    return () => clearTimeout(timer);
  }, [data]);
  if (!data) {
    return html`<${Card} title="Services" testid="services"><${ErrorNote} error=${error} />
      ${error ? null : html`<p class="muted">Loading…</p>`}</${Card}>`;
  }
  const descriptors = data.descriptors || [];
  return html`
    <div class="stack">
      <${Card} title="Instances on this node" testid="services">
        <${ErrorNote} error=${error || actionError} />
        <${InstanceTable} instances=${instances} now=${now} local=${true} onChanged=${reload}
          onError=${setError} testid="instance-table" />
      </${Card}>
      <${Card} title="Meshes" testid="service-meshes">
        ${(data.meshes || []).map((mesh) => html`<${MeshServices} key=${mesh.mesh_id} mesh=${mesh}
          descriptors=${descriptors} storeNames=${storeNames} now=${now} onChanged=${reload} onError=${setError} />`)}
        ${(data.local_declarations || []).length ? html`
          <h3>Declared for this node only</h3>
          <${DeclarationTable} declarations=${data.local_declarations} storeNames=${storeNames}
            onChanged=${reload} onError=${setError} />` : null}
        <h3>Declare a service</h3>
        <${DeclareForm} descriptors=${descriptors} stores=${stores} onDeclared=${reload} />
      </${Card}>
      <${Card} title="Descriptors" testid="descriptors">
        ${descriptors.length === 0 ? html`<${Empty}>No service descriptors found.</${Empty}>` : html`
          <table class="table" data-testid="descriptor-table">
            <thead><tr><th>Service</th><th>Store type</th><th>Binary</th><th>Rights</th><th>Restart</th></tr></thead>
            <tbody>${descriptors.map((d) => html`
              <tr key=${d.id} data-testid="descriptor-row" data-service=${d.id}>
                <td><strong>${d.id}</strong><div class="muted small">${d.description}</div></td>
                <td>${d.store_type}</td>
                <td class="small"><code>${d.binary_path || d.binary}</code>
                  ${d.problem ? html`<div class="error inline">${d.problem}</div>` : null}</td>
                <td class="small">${(d.rights || []).join(', ')}</td>
                <td class="small">${d.restart_policy}</td>
              </tr>`)}</tbody>
          </table>`}
        ${(data.descriptor_errors || []).map((e) => html`<p class="error small">${e}</p>`)}
      </${Card}>
    </div>`;
}
