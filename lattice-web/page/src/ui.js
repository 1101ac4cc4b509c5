// Small building blocks shared by the sections: cards, status badges, error notes, buttons
// that show they are busy, and copying to the clipboard.
import { useState } from 'preact/hooks';
import { html } from './html.js';

export function Card({ title, testid, actions, children }) {
  return html`
    <section class="card" data-testid=${testid}>
      <header class="card-head">
        <h2>${title}</h2>
        ${actions ? html`<div class="card-actions">${actions}</div>` : null}
      </header>
      ${children}
    </section>`;
}

// A word whose colour says whether it is good, in progress or bad.
const toneOf = {
  running: 'good', active: 'good', live: 'good', ok: 'good', connected: 'good', enabled: 'good',
  starting: 'busy', stopping: 'busy', backoff: 'busy', connecting: 'busy', reconnecting: 'busy',
  failed: 'bad', refused: 'bad', revoked: 'bad', conflicted: 'bad', exited: 'bad', closed: 'bad',
  warning: 'bad', forked: 'bad', missing: 'bad',
};
export function Badge({ text, testid, tone }) {
  return html`<span class=${'badge badge-' + (tone || toneOf[text] || 'plain')}
    data-testid=${testid}>${text}</span>`;
}

export function ErrorNote({ error, testid = 'error' }) {
  if (!error) return null;
  return html`<p class="error" role="alert" data-testid=${testid}>${error.message || String(error)}</p>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

// A button that runs an async action, is disabled while it runs, and reports a failure
// through onError (or shows it beside itself).
export function ActionButton({ action, children, testid, kind, onError, title, disabled }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      if (onError) onError(failure);
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <span class="action">
      <button type="button" class=${kind ? 'btn btn-' + kind : 'btn'} data-testid=${testid}
        title=${title} disabled=${busy || disabled} onClick=${run}>${children}</button>
      ${error ? html`<span class="error inline" role="alert">${error.message}</span>` : null}
    </span>`;
}

// Copies `text` with the asynchronous clipboard API (a secure context: https or loopback).
export function CopyButton({ text, testid }) {
  const [state, setState] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('Copied');
    } catch (failure) {
      setState('Copy failed: select the text and copy it by hand');
    }
  };
  return html`
    <span class="action">
      <button type="button" class="btn" data-testid=${testid} onClick=${copy}>Copy</button>
      ${state ? html`<span class="note" data-testid=${testid + '-state'}>${state}</span>` : null}
    </span>`;
}

// A destructive action asked twice: the button, then "question? [label] [Cancel]".
export function ConfirmButton({ label, question, action, testid, onError }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return html`<button type="button" class="btn btn-danger" data-testid=${testid}
      onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`
    <span class="confirm">${question}
      <${ActionButton} kind="danger" testid=${testid + '-confirm'} onError=${onError}
        action=${async () => { await action(); setAsking(false); }}>${label}</${ActionButton}>
      <button type="button" class="btn" onClick=${() => setAsking(false)}>Cancel</button>
    </span>`;
}
